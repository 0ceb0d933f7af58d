import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';
import { problem } from '../problem.ts';

/** How much of a refused body is read and thrown away, so the connection can carry the next request. */
const DISCARD_AT_MOST = 1024 * 1024;

/**
 * Refuses request bodies over `maxBytes` with 413 `payload.tooLarge`, in a way that keeps the connection usable on Node.
 * - A body whose declared `Content-Length` is over the limit is refused from the header alone: the body is never
 *   asked for, so @hono/node-server drains it after the answer, as it does any body a handler leaves unread.
 * - A body sent without a length is counted as it is read. Once over the limit, the rest is read and thrown away
 *   behind the answer (up to DISCARD_AT_MOST, then the connection is dropped): left unread in its web stream, it
 *   would keep node-server from draining the connection, which it then drops under a client told to keep it alive.
 * GET and HEAD never have a body, and asking for one, on Node, would build a whole web Request for every read.
 */
export function limitBodies(maxBytes: number) {
  const tooLarge = (c: Context) =>
    problem(c, 'payload.tooLarge', `request bodies may be at most ${maxBytes} bytes`);
  return createMiddleware<ApiEnv>(async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined) return Number(declared) > maxBytes ? tooLarge(c) : next();
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      if (size > maxBytes) {
        void discard(reader, DISCARD_AT_MOST);
        return tooLarge(c);
      }
      chunks.push(read.value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  });
}

/** Reads and drops what is left of a body, up to `atMost` bytes; past that, cancels it. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, atMost: number) {
  let size = 0;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      if (size > atMost) return await reader.cancel();
    }
  } catch {
    // The client went away: there is nothing left to drain.
  }
}
