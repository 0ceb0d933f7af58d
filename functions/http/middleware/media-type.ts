import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';

/**
 * Writes a request's Content-Type in the one form the routes' media-type check reads (@hono/zod-openapi's pattern:
 * `type/subtype` then `; name=value` each): RFC 9110 lets whitespace stand before a parameter's `;` and a list end
 * with one, so `application/json ; charset=utf-8` and `application/json;` are JSON too, which that pattern refused
 * with 415.
 */
export function canonicalMediaTypes() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const given = c.req.header('content-type');
    if (given !== undefined) {
      const [type = '', ...parameters] = given.split(';').map((part) => part.trim());
      const canonical = [type, ...parameters.filter((p) => p !== '')].join('; ');
      if (canonical !== given) c.req.raw.headers.set('content-type', canonical);
    }
    await next();
  });
}
