import { isUtf8 } from 'node:buffer';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';
import { problem } from '../problem.ts';

/**
 * Refuses a request body that is not UTF-8 with 400 `validation.failed`, as JSON must be (RFC 8259 §8.1): read as
 * JSON, each byte that starts no UTF-8 character became U+FFFD, so `café` sent in Latin-1 was kept, and shown back,
 * as `caf�`. The body is read here once; the routes read it from Hono's cache. A body that API Gateway hands the
 * Lambda as text was decoded before it came, and is UTF-8 whatever it was. GET and HEAD have no body (limitBodies).
 */
export function utf8Bodies() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !c.req.raw.body) return next();
    if (isUtf8(await c.req.arrayBuffer())) return next();
    return problem(
      c,
      'validation.failed',
      'the request body is not UTF-8, as JSON must be: send its text as UTF-8',
      {
        errors: [{ path: '(body)', message: 'must be UTF-8 (RFC 8259)' }],
      },
    );
  });
}
