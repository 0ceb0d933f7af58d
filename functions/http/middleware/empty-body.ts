import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';

/**
 * For a route whose JSON body is optional: a body sent empty with `Content-Type: application/json` (as clients that
 * set the header on every request do) counts as no body, not as malformed JSON.
 */
export const emptyBodyIsNone = createMiddleware<ApiEnv>(async (c, next) => {
  if (c.req.header('content-type') && (await c.req.text()) === '') {
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-type');
    c.req.raw = new Request(c.req.url, { method: c.req.method, headers });
  }
  await next();
});
