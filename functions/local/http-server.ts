import { createServer, maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Problem } from '../../schemas/problem.ts';
import { INTERNAL_ERROR_DETAIL, PROBLEM_CONTENT_TYPE, problemOf } from '../http/problem.ts';
import { logger } from '../shared/local.ts';

/**
 * What a local server answers when @hono/node-server cannot make a request of what came — a `RequestError`: a
 * backslash in the path, a Host that is no host, an absolute URI that is no URL: 400 problem+json saying so, where the
 * server alone answers an empty 400. Nothing else reaches it (Hono answers a handler's errors itself); were anything
 * to, it would be logged and answered 500 `internal`, as an error Hono catches is.
 */
export function answerUnreadable(err: unknown): Response {
  const unreadable = err instanceof RequestError;
  if (!unreadable) logger.error('unhandled error', { error: err });
  const problem = unreadable
    ? problemOf(
        'validation.failed',
        `the request line or its Host header cannot be read: ${err.message}`,
        '/',
      )
    : problemOf('internal', INTERNAL_ERROR_DETAIL, '/');
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
  });
}

/** An error Node's HTTP server gives its `clientError` listeners: its parser's (with a `reason`) or a timeout. */
type ClientError = Error & { code?: string; reason?: string };

/**
 * The problem for what Node's HTTP server refuses before any request is made of it, with the status Node itself answers
 * it with, bodyless: a request line and headers over its limit 431 (Node tells no URL too long apart), chunk extensions
 * over theirs 413, a request not whole in time 408, anything else its parser cannot read (both Content-Length and
 * Transfer-Encoding, a bad chunk size) 400.
 */
export function refusalOf(err: ClientError, headerLimit = maxHeaderSize): Problem {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return problemOf(
        'headers.tooLarge',
        `the request line and headers may be at most ${headerLimit} bytes together: a long URL counts`,
        '/',
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return problemOf('payload.tooLarge', "the request body's chunk extensions are too large", '/');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problemOf('request.timeout', 'the request did not arrive whole in time', '/');
    default:
      return problemOf('validation.failed', `the request cannot be read: ${err.reason ?? err.message}`, '/');
  }
}

/**
 * Answers what Node's server refuses with `refusalOf`'s problem, then closes the connection, where Node answers
 * without a body. As Node does, it answers nothing once an answer on the connection has begun (its bytes would land
 * inside that answer) nor to a client gone.
 */
function answerRefused(server: Server, headerLimit?: number): void {
  const answering = new WeakMap<Duplex, Set<ServerResponse>>();
  server.on('request', (req, res: ServerResponse) => {
    const responses = answering.get(req.socket) ?? new Set();
    answering.set(req.socket, responses.add(res));
    res.on('close', () => responses.delete(res));
  });
  server.on('clientError', (err: ClientError, socket: Duplex) => {
    const begun = [...(answering.get(socket) ?? [])].some((res) => res.headersSent);
    if (err.code === 'ECONNRESET' || !socket.writable || begun) {
      socket.destroy();
      return;
    }
    socket.end(problemAnswer(refusalOf(err, headerLimit)), () => socket.destroy());
  });
}

/** `problem` as a whole HTTP/1.1 answer, `headers` beside it, for a bare connection that closes after it. */
export function problemAnswer(problem: Problem, headers: Record<string, string> = {}): string {
  const body = JSON.stringify(problem);
  const lines = [
    `HTTP/1.1 ${problem.status} ${problem.title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A node:http server of `fetch` on 127.0.0.1:`port`, as @hono/node-server's `serve` makes one (it takes no error
 * handler), answering what it cannot read as problem+json: what @hono/node-server cannot make a request of with
 * `answerUnreadable`, what Node's own server refuses with `answerRefused`. It starts listening at once. A request
 * must arrive whole within Node's `requestTimeout` (300 s by default; 0 for none), its request line and headers within
 * `maxHeaderSize` bytes (16 KiB by default).
 */
export function serveLocally(
  fetch: Parameters<typeof getRequestListener>[0],
  port: number,
  options: { requestTimeout?: number; maxHeaderSize?: number } = {},
): Server {
  const hostname = '127.0.0.1';
  const server = createServer(
    options,
    getRequestListener(fetch, { hostname, errorHandler: answerUnreadable }),
  );
  answerRefused(server, options.maxHeaderSize);
  server.listen(port, hostname);
  return server;
}

/**
 * The ingress's server, with an ALB's limits rather than Node's: a request may take as long as it needs to arrive
 * whole (an upload may take an hour), where Node's default cuts one after 300 s, a replica that hears nothing still
 * timing out (REPLICA_IDLE_MS); its request line and headers may take 64 KiB, an ALB's whole header, where Node's
 * default is 16 KiB (large cookies); and a client's connection is kept between requests for the apps' idle timeout
 * (`idleMs`), as an ALB keeps one for its own, where Node closes it after 5 s: a client whose pool keeps connections
 * longer would otherwise meet resets locally that it never meets on AWS.
 */
export function serveIngress(fetch: Parameters<typeof getRequestListener>[0], port: number, idleMs: number) {
  const server = serveLocally(fetch, port, { requestTimeout: 0, maxHeaderSize: 64 * 1024 });
  server.keepAliveTimeout = idleMs;
  return server;
}
