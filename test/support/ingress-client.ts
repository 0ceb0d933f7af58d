import { request } from 'node:http';
import { connect } from 'node:net';

/**
 * A GET through the local ingress for `http://<app>.<tenant>.localhost:<port>/` (Host header, no DNS needed), with
 * `headers` beside it. node:http, not fetch: fetch sends a Host of its own.
 */
export function ingressGet(
  port: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { ...headers, host: `${host}:${port}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.end();
  });
}

/**
 * An upgrade request (`Upgrade: echo`) through the local ingress on a bare connection: once answered, sends
 * `message`, and resolves with all that came back when what followed the answer is `message` — or rejects with
 * what came when the connection closes first or 10 s pass.
 */
export function upgradeThroughIngress(port: number, host: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${why} through ${host}; got ${JSON.stringify(received)}`));
    };
    const timer = setTimeout(() => fail('no echo in 10 s'), 10_000);
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      const before = received.indexOf('\r\n\r\n');
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (before === -1) socket.write(message);
      if (received.slice(end + 4) === message) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => fail('closed'));
    socket.on('error', (err) => fail(err.message));
    socket.write(
      `GET /socket HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`,
    );
  });
}

/** Sends `request` as it is (bytes a client library would refuse to send) and resolves with all that came back. */
export function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      received += chunk;
    });
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`no end of the answer in 10 s; got ${received}`)),
    );
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.end(request);
  });
}

/** Polls until `check` returns a value (not undefined), or fails with the last thing it saw. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}
