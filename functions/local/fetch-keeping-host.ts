import { Agent, request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';

const agent = new Agent({ keepAlive: true });

/** Statuses whose answers have no body, whatever the headers say. */
const BODILESS = new Set([204, 304]);

/**
 * `fetch` for the local ingress's proxy, over node:http: it sends the request's own Host header, as the load balancer
 * does in AWS mode, where `fetch` would put the replica's address in its place. Fails as `fetch` does (the promise
 * rejects) when the replica cannot be reached, so the ingress tries the next one; ends the replica's request when
 * the client's goes away.
 */
export function fetchKeepingHost(req: Request): Promise<Response> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const out = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: Object.fromEntries(req.headers),
        signal: req.signal,
      },
      (res) => {
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          headers.append(res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '');
        }
        const status = res.statusCode ?? 502;
        const bodiless = req.method === 'HEAD' || BODILESS.has(status);
        if (bodiless) res.resume();
        resolve(
          new Response(bodiless ? null : (Readable.toWeb(res) as ReadableStream), {
            status,
            statusText: res.statusMessage,
            headers,
          }),
        );
      },
    );
    out.on('error', reject);
    if (req.body) Readable.fromWeb(req.body as Parameters<typeof Readable.fromWeb>[0]).pipe(out);
    else out.end();
  });
}
