import type { ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import type { ReadableStream as WebStream } from 'node:stream/web';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { DNS_LABEL } from '../../schemas/common.ts';
import type { ErrorCode } from '../../schemas/problem.ts';
import { boundsAt } from '../core/autoscale.ts';
import { isDomainError } from '../core/errors.ts';
import type { Store } from '../core/ports.ts';
import { INTERNAL_ERROR_DETAIL, problem } from '../http/problem.ts';
import { logger } from '../shared/local.ts';
import { fetchKeepingHost, REPLICA_IDLE_MS, ReplicaIdleError } from './fetch-keeping-host.ts';
import { endToEnd } from './hop-by-hop.ts';
import type { Endpoint, RoutingTable } from './routing-table.ts';

const label = DNS_LABEL.source.slice(1, -1);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const HOST = new RegExp(`^(?<app>${label})\\.(?<tenant>${label})\\.localhost\\.?(?::\\d+)?$`);

const RETRY_SOON = { 'retry-after': '1' };

/** How many ready replicas a request may try when one fails to answer at once. */
const MAX_ATTEMPTS = 3;

/** What the ingress answers instead of a replica's answer. */
export interface IngressProblem {
  code: ErrorCode;
  detail: string;
  headers?: Record<string, string>;
}

/** The connection a request came in on, where the server says (on Node, not in `app.request`). */
interface Connection {
  remoteAddress?: string;
  localPort?: number;
}

/** What @hono/node-server tells a request of where it came from: the request Node read, and its answer. */
interface NodeBindings {
  incoming?: { url?: string; socket?: Connection };
  outgoing?: ServerResponse;
}

/**
 * What a replica is told of the request's way in, as the load balancer tells it in AWS mode: the client's address
 * added to X-Forwarded-For, and the host, scheme and port it came to in X-Forwarded-Host, -Proto and -Port (a
 * client's own claims of those are replaced).
 */
export function forwardedHeaders(
  request: { host?: string; forwardedFor?: string },
  connection: Connection | undefined,
): Record<string, string> {
  const client = connection?.remoteAddress;
  const forwardedFor = [request.forwardedFor, client].filter(Boolean).join(', ');
  return {
    ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    ...(request.host ? { 'x-forwarded-host': request.host } : {}),
    'x-forwarded-proto': 'http',
    ...(connection?.localPort ? { 'x-forwarded-port': String(connection.localPort) } : {}),
  };
}

/** A Host header that names no app. */
export const NO_SUCH_HOST: IngressProblem = {
  code: 'route.notFound',
  detail: 'use http://<app>.<tenant>.localhost:<ingress port>/',
};

const ABSOLUTE_FORM = /^https?:\/\//i;

/**
 * The host a request is for and its target in origin form, as RFC 9112 §3.2.2 has them: a target in absolute form
 * (`GET http://web.acme.localhost/ HTTP/1.1`) names its host itself, whatever the Host header says; one in origin form
 * is for the Host header's. A proxy sends the replica the origin form, with that host as its Host. No host for an
 * absolute target that is not a URL.
 */
export function requestTarget(
  target: string,
  hostHeader: string | undefined,
): { host?: string; path: string } {
  if (!ABSOLUTE_FORM.test(target)) return { host: hostHeader, path: target };
  const url = URL.parse(target);
  return url ? { host: url.host, path: `${url.pathname}${url.search}` } : { path: '/' };
}

/** The app a Host header names: `<app>.<tenant>.localhost`, fully qualified (a final dot) or not, any port. */
export function appOfHost(host: string | undefined): { tenant: string; app: string } | undefined {
  const groups = HOST.exec((host ?? '').toLowerCase())?.groups;
  return groups?.tenant && groups.app ? { tenant: groups.tenant, app: groups.app } : undefined;
}

/**
 * Why no replica of an app will come to answer: 404 for no such app; 503 without Retry-After when the app is stopped,
 * failed to deploy, is scaled to zero (by hand or by a schedule) or its tenant suspended. Undefined while one should
 * come (it starts).
 */
async function noneComing(store: Store, tenant: string, app: string): Promise<IngressProblem | undefined> {
  const stored = await store.getApp(tenant, app);
  if (!stored) return { code: 'app.notFound', detail: `no app "${app}" for tenant "${tenant}"` };
  if (stored.status === 'stopped') {
    return { code: 'unavailable', detail: `app "${app}" is stopped; POST /v1/apps/${app}/start starts it` };
  }
  if (stored.status === 'suspended') {
    return { code: 'unavailable', detail: `app "${app}" does not run while tenant "${tenant}" is suspended` };
  }
  if (stored.status === 'failed') {
    return {
      code: 'unavailable',
      detail: `app "${app}" failed to deploy and nothing of it runs; GET /v1/apps/${app}/events says why, and a deployment of a fixed revision starts it`,
    };
  }
  if (stored.replicas === 0) {
    // A schedule in force that holds the app at zero would take back what POST /scale added.
    const bounds = stored.scaling && boundsAt(stored.scaling, new Date());
    const detail =
      bounds?.schedule && bounds.max === 0
        ? `app "${app}" is scaled to zero by its schedule "${bounds.schedule}" until a schedule with a min fires`
        : `app "${app}" is scaled to zero; POST /v1/apps/${app}/scale adds replicas`;
    return { code: 'unavailable', detail };
  }
  return undefined;
}

/** 503 with Retry-After: a replica should come, and none is ready yet. */
const starting = (app: string): IngressProblem => ({
  code: 'unavailable',
  detail: `app "${app}" has no ready replica right now; retry shortly`,
  headers: RETRY_SOON,
});

/**
 * The app's next ready endpoint. With none ready but one to come, it waits for the first while the routing table is
 * being rebuilt after a start (`RoutingTable.rebuilding`); otherwise it answers why there is none.
 */
async function nextEndpoint(
  routes: RoutingTable,
  store: Store,
  target: { tenant: string; app: string },
): Promise<{ endpoint: Endpoint } | { problem: IngressProblem }> {
  const ready = routes.pick(target.tenant, target.app);
  if (ready) return { endpoint: ready };
  const none = await noneComing(store, target.tenant, target.app);
  if (none) return { problem: none };
  const soon = (await routes.readySoon(target.tenant, target.app)) && routes.pick(target.tenant, target.app);
  return soon ? { endpoint: soon } : { problem: starting(target.app) };
}

/**
 * What the ingress answers when a replica's answer is not HTTP it can pass on (Node's parser refused it: a bare LF
 * ending a header, say): 502, as the load balancer answers in AWS mode, saying what was wrong, since trying again
 * would not help. Undefined for any other failure.
 */
function badResponse(app: string, err: unknown): IngressProblem | undefined {
  const { code, reason } = (err ?? {}) as { code?: unknown; reason?: unknown };
  if (typeof code !== 'string' || !code.startsWith('HPE_')) return undefined;
  return {
    code: 'app.badResponse',
    detail: `app "${app}" answered with malformed HTTP: ${typeof reason === 'string' ? reason : code}`,
  };
}

/**
 * What the ingress answers when the replica it reached sent nothing for its idle timeout: 504, as the load balancer
 * answers in AWS mode, and not tried on another replica, which would make the client wait as long again.
 */
function silent(app: string, err: unknown): IngressProblem | undefined {
  if (!(err instanceof ReplicaIdleError)) return undefined;
  return { code: 'app.timeout', detail: `app "${app}" did not answer within ${err.idleMs / 1000} s` };
}

/**
 * What the ingress answers when it fails (the table unavailable while it looks for why no replica is ready), as the
 * API answers it: 503 with Retry-After, or 500 naming nothing; logged in the platform's format, where Hono would
 * answer a plain-text 500 and write the stack.
 */
export function ingressFailure(
  err: unknown,
  request: { host: string | undefined; method: string | undefined; path: string },
): IngressProblem {
  const unavailable = isDomainError(err, 'unavailable');
  logger.error(unavailable ? 'ingress answered unavailable' : 'ingress failed', { ...request, error: err });
  return unavailable
    ? { code: 'unavailable', detail: err.message, headers: RETRY_SOON }
    : { code: 'internal', detail: INTERNAL_ERROR_DETAIL };
}

/** `p` as the answer to the request of `c`. */
const answered = (c: Context, p: IngressProblem) => problem(c, p.code, p.detail, { headers: p.headers });

/** No replica tried answered. */
const notAnswered = (app: string): IngressProblem => ({
  code: 'unavailable',
  detail: `app "${app}" did not answer; retry shortly`,
  headers: RETRY_SOON,
});

/**
 * Hands a request to the app's ready replicas in turn (round robin) until `reach` reaches one. A replica that went
 * away between two requests (or a pooled connection to its old address) fails at once; a request that may be `retry`d
 * then tries the next ready replica, up to MAX_ATTEMPTS, so a rolling deploy drops nothing. Answers what `reach` made
 * of the replica it reached, or the problem the ingress answers instead: why there is no ready replica (`nextEndpoint`),
 * or that none answered.
 */
export async function reachReplica<T>(
  routes: RoutingTable,
  store: Store,
  target: { tenant: string; app: string },
  retry: boolean,
  reach: (endpoint: Endpoint) => Promise<T | undefined>,
): Promise<{ reached: T } | { problem: IngressProblem }> {
  let attempts = 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const next = await nextEndpoint(routes, store, target);
    if ('problem' in next) return next;
    if (attempt === 0 && retry) attempts = Math.min(MAX_ATTEMPTS, routes.size(target.tenant, target.app));
    const reached = await reach(next.endpoint);
    if (reached !== undefined) return { reached };
  }
  return { problem: notAnswered(target.app) };
}

/**
 * The replica's answer to `request`, sent to `url` with `headers`: each way only the end-to-end fields, as the load
 * balancer passes them, the body as it is.
 */
async function relayed(url: string, request: Request, headers: Record<string, string>, idleMs: number) {
  const sent = new Request(url, {
    method: request.method,
    headers: endToEnd(headers),
    body: request.body,
    signal: request.signal,
    ...(request.body ? { duplex: 'half' } : {}),
  });
  const answer = await fetchKeepingHost(sent, idleMs);
  const { status, statusText } = answer;
  return new Response(answer.body, { status, statusText, headers: endToEnd(answer.headers) });
}

/**
 * The replica's `answer`, sent to the client as it came, through Node's response itself: @hono/node-server would give
 * an answer without a Content-Type its own (`text/plain`), where the load balancer adds none and a browser sniffs.
 * An answer whose body fails midway (its replica reset the connection or went silent for the idle timeout) has the
 * client's connection cut, as the load balancer cuts it, since the answer can be neither finished nor taken back;
 * nothing is logged, the failure being the app's. Without a `client` connection (`app.request`), the answer itself.
 */
function sendOn(answer: Response, client: ServerResponse | undefined): Response {
  if (!client) return answer;
  client.writeHead(answer.status, answer.statusText, [...answer.headers].flat());
  if (!answer.body) client.end();
  else pipeline(Readable.fromWeb(answer.body as WebStream), client, (err) => err && client.destroy());
  return RESPONSE_ALREADY_SENT;
}

/**
 * The local ingress: `http://<app>.<tenant>.localhost:<port>` → the app's ready replicas, round robin; problem+json
 * (see `reachReplica`) when none answers, or 504 when the one reached sends nothing for `idleMs`. Connection upgrades
 * (WebSocket) are `tunnelUpgrades`'.
 */
export function createIngress(routes: RoutingTable, store: Store, idleMs = REPLICA_IDLE_MS) {
  const ingress = new Hono();
  ingress.onError((err, c) =>
    answered(c, ingressFailure(err, { host: c.req.header('host'), method: c.req.method, path: c.req.path })),
  );
  ingress.all('*', async (c) => {
    const answer = (p: IngressProblem) => answered(c, p);
    const { incoming, outgoing } = (c.env as NodeBindings | undefined) ?? {};
    const url = new URL(c.req.url);
    const { host } = requestTarget(incoming?.url ?? url.pathname, c.req.header('host'));
    const target = appOfHost(host);
    if (!host || !target) return answer(NO_SUCH_HOST);
    const headers = {
      ...c.req.header(),
      host,
      ...forwardedHeaders({ host, forwardedFor: c.req.header('x-forwarded-for') }, incoming?.socket),
    };
    const result = await reachReplica(routes, store, target, IDEMPOTENT.has(c.req.method), (endpoint) =>
      relayed(
        `http://${endpoint.host}:${endpoint.port}${url.pathname}${url.search}`,
        c.req.raw,
        headers,
        idleMs,
      ).catch((err: unknown) => {
        // The replica answered, badly, or not in time: that is its answer (another replica runs the same code).
        const bad = badResponse(target.app, err) ?? silent(target.app, err);
        return bad && answer(bad);
      }),
    );
    return 'reached' in result ? sendOn(result.reached, outgoing) : answer(result.problem);
  });
  return ingress;
}
