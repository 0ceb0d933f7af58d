import { Agent, request as httpRequest } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from '../adapters/alb/target-group-settings.ts';

const agent = new Agent({ keepAlive: true });

/** Statuses whose answers have no body, whatever the headers say. */
const BODILESS = new Set([204, 304]);

/**
 * How long a request that expects 100 Continue waits for it before its body is sent anyway (RFC 9110 §10.1.1: a
 * replica may not know the expectation), as curl waits.
 */
export const CONTINUE_WAIT_MS = 1000;

/**
 * How long a replica may send nothing — before its answer or within it — before the ingress gives the request up, as
 * the load balancer does in AWS mode (its idle timeout), unless BERTH_APP_IDLE_TIMEOUT_SECONDS says otherwise.
 */
export const REPLICA_IDLE_MS = DEFAULT_IDLE_TIMEOUT_SECONDS * 1000;

/** Why a request to a replica was given up: it sent nothing for `idleMs`. */
export class ReplicaIdleError extends Error {
  constructor(readonly idleMs: number) {
    super(`the replica sent nothing for ${idleMs / 1000} s`);
  }
}

/**
 * `fetch` for the local ingress's proxy, over node:http: it sends the request's own Host header, as the load balancer
 * does in AWS mode, where `fetch` would put the replica's address in its place. Fails as `fetch` does (the promise
 * rejects) when the replica cannot be reached, so the ingress tries the next one; ends the replica's request when
 * the client's goes away. A request that expects 100 Continue sends its body only once the replica asks for it (or
 * has not answered within CONTINUE_WAIT_MS): a replica that refuses the request at its headers (413 to a large upload,
 * say) and closes, body unread, has its answer reach the client, where a body sent meanwhile would have had the
 * connection reset under it. A replica that sends nothing for `idleMs` has its request ended with a ReplicaIdleError:
 * the promise rejects with it before an answer, and the answer's body fails with it after.
 */
export function fetchKeepingHost(req: Request, idleMs = REPLICA_IDLE_MS): Promise<Response> {
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
    out.setTimeout(idleMs, () => out.destroy(new ReplicaIdleError(idleMs)));
    const body = req.body;
    if (!body) {
      out.end();
      return;
    }
    // A client gone mid-body fails its body: the pipeline aborts the replica's request (the promise rejects, by
    // `out`'s listener above), where `pipe` would leave the failure unheard — an 'error' event without a listener,
    // which ends the process — and the replica's request open until its idle timeout.
    const pipeBody = () =>
      pipeline(Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]), out, () => {});
    if (!expectsContinue(req)) {
      pipeBody();
      return;
    }
    let decided = false;
    const decide = (sendBody: boolean) => {
      if (decided) return false;
      decided = true;
      clearTimeout(unasked);
      if (sendBody) pipeBody();
      return true;
    };
    const unasked = setTimeout(() => decide(true), CONTINUE_WAIT_MS);
    out.once('continue', () => decide(true));
    // Answered before it asked for the body: the body is never sent, so the connection is not used again. The
    // client's body is left unread, for the server to discard after the answer.
    out.once('response', (res) => decide(false) && res.once('close', () => out.destroy()));
    out.once('close', () => clearTimeout(unasked));
    out.flushHeaders();
  });
}

const expectsContinue = (req: Request) => req.headers.get('expect')?.trim().toLowerCase() === '100-continue';
