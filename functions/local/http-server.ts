import { createServer, type Server } from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../http/problem.ts';
import { logLine } from '../shared/local.ts';

/**
 * What a local server answers when @hono/node-server cannot make a request of what came — a `RequestError`: a
 * backslash in the path, a Host that is no host, an absolute URI that is no URL: 400 problem+json saying so, where the
 * server alone answers an empty 400. Nothing else reaches it (Hono answers a handler's errors itself); were anything
 * to, it would be logged and answered 500 `internal`, as an error Hono catches is.
 */
export function answerUnreadable(err: unknown): Response {
  const unreadable = err instanceof RequestError;
  if (!unreadable) console.error(logLine('unhandled error', { error: err }));
  const problem = unreadable
    ? problemOf(
        'validation.failed',
        `the request line or its Host header cannot be read: ${err.message}`,
        '/',
      )
    : problemOf('internal', 'an internal error occurred; it has been logged', '/');
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
  });
}

/**
 * A node:http server of `fetch` on 127.0.0.1:`port`, as @hono/node-server's `serve` makes one (it takes no error
 * handler), answering what it cannot read with `answerUnreadable`. It starts listening at once.
 */
export function serveLocally(fetch: Parameters<typeof getRequestListener>[0], port: number): Server {
  const hostname = '127.0.0.1';
  const server = createServer(getRequestListener(fetch, { hostname, errorHandler: answerUnreadable }));
  server.listen(port, hostname);
  return server;
}
