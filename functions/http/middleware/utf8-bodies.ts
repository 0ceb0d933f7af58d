import { isUtf8 } from 'node:buffer';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';
import { problem } from '../problem.ts';

/** The media types Hono's validator reads a body of as JSON (`application/json`, `application/…+json`). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Refuses a JSON body that is not UTF-8 with 400 `validation.failed`, as JSON must be (RFC 8259 §8.1): read as
 * JSON, each byte that starts no UTF-8 character became U+FFFD, so `café` sent in Latin-1 was kept, and shown back,
 * as `caf�`. The body is read here once; the routes read it from Hono's cache. A body of another media type is left
 * to the route, which refuses it (415). A body that API Gateway hands the Lambda as text was decoded before it came,
 * and is UTF-8 whatever it was.
 */
export function utf8Bodies() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const mediaType = c.req.header('content-type')?.split(';')[0]?.trim() ?? '';
    if (!JSON_MEDIA_TYPE.test(mediaType) || isUtf8(await c.req.arrayBuffer())) return next();
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
