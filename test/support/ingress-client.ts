import { type IncomingHttpHeaders, request } from 'node:http';

/**
 * A request through the local ingress for `http://<app>.<tenant>.localhost:<port>/` (Host header, no DNS needed), with
 * `headers` beside it and `body`, if any. node:http, not fetch: fetch sends a Host of its own. An answer whose
 * connection is cut before it came whole resolves with the body so far and `cut`, why.
 */
export function ingressRequest(
  port: number,
  host: string,
  { method = 'GET', path = '/', headers = {}, body }: IngressRequest = {},
): Promise<IngressAnswer & { headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, host: `${host}:${port}` } },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          answer += chunk;
        });
        const { headers } = res;
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers, body: answer }));
        res.on('error', (err) =>
          resolve({ status: res.statusCode ?? 0, headers, body: answer, cut: err.message }),
        );
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

/** An answer through the local ingress, without its header fields. */
interface IngressAnswer {
  status: number;
  body: string;
  cut?: string;
}

/** A GET of `path` through the local ingress, its answer without its header fields: see `ingressRequest`. */
export async function ingressGet(
  port: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<IngressAnswer> {
  const { headers: _, ...answer } = await ingressRequest(port, host, { path, headers });
  return answer;
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
