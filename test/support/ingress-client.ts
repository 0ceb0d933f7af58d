import { request } from 'node:http';

/**
 * A request through the local ingress for `http://<app>.<tenant>.localhost:<port>/` (Host header, no DNS needed), with
 * `headers` beside it and `body`, if any, sent with its length. node:http, not fetch: fetch sends a Host of its own.
 * An answer whose connection is cut before it came whole resolves with the body so far and `cut`, why.
 */
export function ingressRequest(
  port: number,
  host: string,
  { method = 'GET', path = '/', headers = {}, body }: IngressRequest = {},
): Promise<{ status: number; body: string; cut?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, host: `${host}:${port}` } },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          answer += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: answer }));
        res.on('error', (err) => resolve({ status: res.statusCode ?? 0, body: answer, cut: err.message }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${host}${path} timed out`)));
    req.end(body);
  });
}

/** What `ingressRequest` sends: a GET of `/` unless told otherwise. */
interface IngressRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A GET of `path` through the local ingress: see `ingressRequest`. */
export const ingressGet = (port: number, host: string, path = '/', headers: Record<string, string> = {}) =>
  ingressRequest(port, host, { path, headers });

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
