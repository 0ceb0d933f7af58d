import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';
import { problem } from '../problem.ts';

/**
 * Refuses a request body in a content coding (`Content-Encoding: gzip`, …) with 415 `media.unsupported` and
 * `Accept-Encoding: identity`, as RFC 9110 has a server say which codings it takes: read as JSON, a compressed body
 * was answered "Malformed JSON", which sent its client looking for a fault in its JSON. Bodies are at most 64 KiB
 * (limitBodies), so nothing is lost by sending them as they are.
 */
export function uncompressedBodies() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const coding = c.req.header('content-encoding')?.trim().toLowerCase();
    if (!coding || coding === 'identity') return next();
    return problem(
      c,
      'media.unsupported',
      'request bodies are taken as they are: send the body without a Content-Encoding (not compressed)',
      { headers: { 'accept-encoding': 'identity' } },
    );
  });
}
