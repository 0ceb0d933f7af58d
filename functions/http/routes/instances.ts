import type { Context, TypedResponse } from 'hono';
import { App } from '../../../schemas/app.ts';
import { ListQuery, pageOf } from '../../../schemas/common.ts';
import { AppEvent, AppMetrics, InstanceList, LogQuery, MetricsQuery } from '../../../schemas/instance.ts';
import { restartApp, startApp, stopApp } from '../../core/apps.ts';
import { appLogs, appMetrics, listAppEvents, listInstances } from '../../core/instances.ts';
import {
  type ApiDeps,
  type ApiEnv,
  authorOf,
  bodyBytesCarried,
  chargeWait,
  runtimeView,
  tenantOf,
} from '../context.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { FOLLOWS_PER_TENANT, FollowLimit } from '../follow-limit.ts';
import { apiRoute, appActionHeaders, bearer, etagHeader, json, noFields } from '../openapi.ts';
import { AppParams, tenantOnly } from './apps.ts';
import { router } from './router.ts';

const tags = ['Instances and operations'];

/** What one of an app's lifecycle operations does: in a line, in full, and what its answer is. */
interface LifecycleText {
  summary: string;
  description: string;
  answer: string;
}

/** One of an app's lifecycle operations. */
const lifecycle = (action: 'stop' | 'start' | 'restart', { summary, description, answer }: LifecycleText) =>
  apiRoute({
    method: 'post',
    path: `/v1/apps/{app}/${action}`,
    operationId: `${action}App`,
    summary,
    description,
    tags,
    security: bearer,
    middleware: tenantOnly,
    request: { params: AppParams, headers: appActionHeaders, body: noFields },
    responses: { 202: { ...json(App, answer), headers: etagHeader } },
  });

/** What a lifecycle route does to the app: the core's stopApp, startApp or restartApp. */
type LifecycleAction = typeof stopApp;

/**
 * A lifecycle route's handler: `act` on the app, for the key's tenant and naming the key; answered 202 with the app
 * and its ETag, as `PATCH` and `/scale` answer.
 */
const acting =
  (deps: ApiDeps, act: LifecycleAction) =>
  async (c: Context<ApiEnv, string, { out: { param: { app: string } } }>) => {
    const principal = c.get('principal');
    const { app } = c.req.valid('param');
    const acted = await act(deps, tenantOf(principal), app, ifMatchVersions(c), authorOf(principal));
    c.header('etag', etagOf(acted.version));
    return c.json(acted, 202);
  };

export function instanceRoutes(deps: ApiDeps) {
  const follows = new FollowLimit();
  return router()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/instances',
        operationId: 'listInstances',
        summary: "List an app's replicas, running and recently stopped",
        description:
          "The app's replicas, oldest first: those running, with health, restarts and their latest CPU and " +
          'memory, and those stopped in the last hour, with their exit code and, where the runtime ' +
          "says, why (`OOMKilled`, ECS's stop reason).",
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams },
        responses: { 200: json(InstanceList, 'The replicas, oldest first.') },
      }),
      async (c) => {
        const items = await listInstances(
          runtimeView(deps),
          tenantOf(c.get('principal')),
          c.req.valid('param').app,
        );
        return c.json({ items }, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/logs',
        operationId: 'getLogs',
        summary: "Read or follow an app's logs",
        description:
          "Text, each line prefixed by its replica's short id (a container's or an ECS task's first 12 hex" +
          " characters, a pod's name), then the time it was written. `tail` lines per replica, or those after" +
          " `since`, in the order they were written; stopped replicas' last lines are kept for a while, so a crash" +
          ' shows why.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, query: LogQuery },
        responses: {
          200: {
            description:
              "Log lines prefixed by their instance's short id; with follow=true the response streams the lines as " +
              'they come, and goes on with the replicas that start meanwhile (a deploy, a restart), from their ' +
              "first line, until the client leaves or the app is deleted (then with its last replicas' lines) (a " +
              `tenant follows at most ${FOLLOWS_PER_TENANT} logs at once: 429 rate.limited beyond). Behind API ` +
              'Gateway (AWS mode) responses are buffered: a followed request ends after 20 s with the lines so far ' +
              "(and counts as 20 requests against the tenant's rate limit), and a body ends before 5 MB as the " +
              "Lambda's answer carries it (JSON-escaped); ask again with since= to go on.",
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      }),
      async (c) => {
        const query = c.req.valid('query');
        const tenantId = tenantOf(c.get('principal'));
        let done = () => {};
        if (query.follow === 'true') {
          await chargeWait(c, deps, Number.POSITIVE_INFINITY);
          done = follows.take(tenantId);
        }
        const buffered = deps.bufferedAnswers;
        // The reads end when the client leaves, when the body is cancelled (a HEAD's is: see headBodiesCancelled),
        // or, behind API Gateway, when the wait it pays for is over.
        const cancelled = new AbortController();
        const signal = AbortSignal.any([
          c.req.raw.signal,
          cancelled.signal,
          ...(buffered ? [AbortSignal.timeout(buffered.waitMs)] : []),
        ]);
        let lines: AsyncIterable<string>;
        try {
          lines = await appLogs(runtimeView(deps), tenantId, c.req.valid('param').app, query, signal);
        } catch (err) {
          done();
          throw err;
        }
        const encoder = new TextEncoder();
        const iterator = lines[Symbol.asyncIterator]();
        const maxBytes = buffered?.maxBodyBytes ?? Number.POSITIVE_INFINITY;
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            let next: IteratorResult<string>;
            try {
              next = await iterator.next();
            } catch (err) {
              done();
              throw err;
            }
            const size = next.done || !buffered ? 0 : bodyBytesCarried(next.value);
            // Whole lines only: the body ends before the line that would take it past what the gateway carries.
            if (next.done || sent + size > maxBytes) {
              done();
              if (!next.done) await iterator.return?.();
              controller.close();
              return;
            }
            sent += size;
            controller.enqueue(encoder.encode(next.value));
          },
          async cancel() {
            done();
            // A read waiting for a line ends now, not at the next line: the iterator's return waits for it.
            cancelled.abort();
            await iterator.return?.();
          },
        });
        c.header('content-type', 'text/plain; charset=utf-8');
        // A streamed body has no typed content; the route documents it as text/plain.
        return c.body(body, 200) as unknown as TypedResponse<never, 200, 'text'>;
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/events',
        operationId: 'listAppEvents',
        summary: 'List what happened to an app, newest first',
        description:
          'What was asked of the app (`deploying`, `scaled`, `stopped`, `started`, `restarted`, ' +
          '`deleting`), each written with the change itself, and what the platform saw (`deployed`,' +
          ' `deploymentFailed`, `rolledBack`, `replicaExited`, `replicaRemoved` (a replica stopped outside Berth:' +
          ' locally its container removed or paused, on Fargate its task stopped by `StopTask` or by AWS, on EKS' +
          ' its pod evicted or preempted), `unhealthy`, `crashLoop`, ' +
          'autoscaling decisions with their inputs (`scaled`, and `scaleOutHeld` when max, the plan or a monthly cap ' +
          'holds a scale out back: once as the hold begins), suspension, usage warnings). Events are kept 30 days.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, query: ListQuery },
        responses: {
          200: json(pageOf(AppEvent, 'AppEventPage'), 'What happened to the app, newest first.'),
        },
      }),
      async (c) =>
        c.json(
          await listAppEvents(
            deps,
            tenantOf(c.get('principal')),
            c.req.valid('param').app,
            c.req.valid('query'),
          ),
          200,
        ),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/metrics',
        operationId: 'getAppMetrics',
        summary: "Get an app's CPU and memory utilisation",
        description:
          'Per replica and averaged. On Fargate over the window from CloudWatch; locally over as ' +
          "much of the window as the platform has watched; on EKS metrics-server's latest sample. " +
          '`window` in the answer says the span the figures cover.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, query: MetricsQuery },
        responses: { 200: json(AppMetrics, 'CPU and memory per replica and on average.') },
      }),
      async (c) =>
        c.json(
          await appMetrics(
            runtimeView(deps),
            tenantOf(c.get('principal')),
            c.req.valid('param').app,
            c.req.valid('query').window,
          ),
          200,
        ),
    )
    .openapi(
      lifecycle('stop', {
        summary: 'Stop an app: its replicas are stopped, its spec kept',
        description:
          "Stops and removes the app's replicas; its spec, revisions and URL stay, and it holds nothing against the plan's limits while stopped. A change, deploy or rollback meanwhile makes its revision, which runs once the app is started. Stopping a stopped app writes nothing.",
        answer: 'Stopping: replicas are stopped and removed; the app keeps its spec.',
      }),
      acting(deps, stopApp),
    )
    .openapi(
      lifecycle('start', {
        summary: 'Start a stopped app again',
        description:
          "Starts the app's target revision again, with its replica count. 403 `quota.exceeded` when that would pass the plan's limits. Starting an app that is not stopped writes nothing.",
        answer: 'Starting the target revision again; one that never went live gets a new deployment.',
      }),
      acting(deps, startApp),
    )
    .openapi(
      lifecycle('restart', {
        summary: "Replace every one of an app's replicas",
        description:
          'Replaces every replica, new ones first. 409 when nothing runs: `app.stopped` (start it), `app.failed` ' +
          "(`POST /v1/apps/{app}/deployments` tries the app's revision again).",
        answer: 'Every replica is replaced, new ones first.',
      }),
      acting(deps, restartApp),
    );
}
