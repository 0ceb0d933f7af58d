import type { Page } from '../../schemas/common.ts';
import {
  AppEvent,
  type AppMetrics,
  durationMs,
  durationOf,
  type Instance,
  type LogQuery,
} from '../../schemas/instance.ts';
import { getAppRecord } from './apps.ts';
import { codeUnitOrder } from './code-unit-order.ts';
import { UnavailableError } from './errors.ts';
import type {
  AppRecord,
  CoreDeps,
  PageRequest,
  Replica,
  ReplicaView,
  ReplicaViews,
  RuntimeViewDeps,
} from './ports.ts';
import { inSchemaOrder } from './schema-order.ts';

const byStart = (a: Replica, b: Replica) => codeUnitOrder(a.createdAt, b.createdAt);

/** The view of the runtime an app runs on; 503 when this process cannot see that runtime. */
function viewOf(views: ReplicaViews, app: AppRecord): ReplicaView {
  const view = views[app.spec.runtime];
  if (!view) throw new UnavailableError(`this process cannot see apps on the ${app.spec.runtime} runtime`);
  return view;
}

/** The replicas of an app as the runtime reports them, with health and restarts from the control loop. */
export async function listInstances(
  deps: RuntimeViewDeps,
  tenantId: string,
  name: string,
): Promise<Instance[]> {
  const app = await getAppRecord(deps, tenantId, name);
  const view = viewOf(deps.views, app);
  const read = () => readInstances(view, app);
  return deps.recentInstances ? deps.recentInstances.get(`${tenantId}/${app.uid}`, read) : read();
}

async function readInstances(view: ReplicaView, app: AppRecord): Promise<Instance[]> {
  const { tenantId } = app;
  const replicas = (await view.runtime.listReplicas({ tenantId, appUid: app.uid, app: app.name })).sort(
    byStart,
  );
  const [{ stats: allStats }, insights] = await Promise.all([
    view.metrics.replicaStats(replicas.filter((r) => r.state === 'running')),
    view.replicaInsights(app, replicas),
  ]);
  return replicas.map((replica) => {
    const insight = insights.get(replica.id) ?? { ready: false, unhealthy: false, restarts: 0 };
    const stats = allStats.get(replica.id);
    return {
      id: replica.id,
      revision: replica.revision,
      state: replica.state,
      health:
        replica.state === 'exited'
          ? 'stopped'
          : insight.unhealthy
            ? 'unhealthy'
            : insight.ready
              ? 'healthy'
              : 'starting',
      restarts: insight.restarts,
      startedAt: replica.startedAt,
      stoppedAt: replica.stoppedAt,
      exitCode: replica.exitCode,
      exitReason: replica.exitReason ?? null,
      cpuPercent: stats ? Math.round(stats.cpuPercent * 100) / 100 : null,
      memoryMiB: stats ? Math.round(stats.memoryMiB * 100) / 100 : null,
    } satisfies Instance;
  });
}

/**
 * Log lines of every replica, each prefixed by its short id: the last `tail` lines of each (after `since`), then,
 * with `follow`, new lines as they come until `signal` aborts.
 */
export async function appLogs(
  deps: RuntimeViewDeps,
  tenantId: string,
  name: string,
  query: LogQuery,
  signal: AbortSignal,
): Promise<AsyncIterable<string>> {
  const app = await getAppRecord(deps, tenantId, name);
  const view = viewOf(deps.views, app);
  const replicas = (await view.runtime.listReplicas({ tenantId, appUid: app.uid, app: app.name })).sort(
    byStart,
  );
  const since = query.since
    ? /^\d+[smhd]$/.test(query.since)
      ? new Date(deps.clock.now().getTime() - durationMs(query.since))
      : new Date(query.since)
    : undefined;
  const options = { tail: query.tail, follow: query.follow === 'true', signal, ...(since ? { since } : {}) };
  return mergeLines(
    replicas.map((replica) => ({
      prefix: replica.id.slice(0, 12),
      lines: view.logs.replicaLogs(replica, options),
    })),
  );
}

/**
 * The next line of one source; a source that fails (its replica removed mid-read) simply ends, so one replica's
 * trouble never cuts the others' logs short.
 */
const nextLine = (it: AsyncIterator<string>, i: number) =>
  it.next().then(
    (r) => ({ i, r }),
    () => ({ i, r: { done: true, value: undefined } as IteratorResult<string> }),
  );

/** Interleaves several line streams as lines arrive, each line prefixed by its source. */
async function* mergeLines(
  sources: { prefix: string; lines: AsyncIterable<string> }[],
): AsyncIterable<string> {
  const iterators = sources.map((s) => ({ prefix: s.prefix, it: s.lines[Symbol.asyncIterator]() }));
  const pending = new Map(iterators.map((source, i) => [i, nextLine(source.it, i)]));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      const source = iterators[i];
      if (r.done || !source) {
        pending.delete(i);
        continue;
      }
      yield `${source.prefix} ${r.value}\n`;
      pending.set(i, nextLine(source.it, i));
    }
  } finally {
    // Closed early (the reader stopped): the sources still reading are told to stop too, without waiting for them.
    for (const i of pending.keys()) iterators[i]?.it.return?.().catch(() => {});
  }
}

/**
 * CPU and memory of each running replica relative to its own limits, and their average: over `window` where the
 * runtime keeps a history, else its latest sample; the answer's window says which.
 */
export async function appMetrics(
  deps: RuntimeViewDeps,
  tenantId: string,
  name: string,
  window: string,
): Promise<AppMetrics> {
  const app = await getAppRecord(deps, tenantId, name);
  const view = viewOf(deps.views, app);
  const running = (await view.runtime.listReplicas({ tenantId, appUid: app.uid, app: app.name })).filter(
    (r) => r.state === 'running',
  );
  const samples = await view.metrics.replicaStats(running, durationMs(window) / 1000);
  const replicas = [...samples.stats.entries()].map(([id, sample]) => ({ id, ...sample }));
  const mean = (pick: (s: (typeof replicas)[number]) => number) =>
    replicas.reduce((sum, s) => sum + pick(s), 0) / replicas.length;
  return {
    window: durationOf(samples.windowSeconds),
    sampledAt: deps.clock.now().toISOString(),
    replicas,
    average: replicas.length
      ? { cpuPercent: mean((s) => s.cpuPercent), memoryPercent: mean((s) => s.memoryPercent) }
      : null,
  };
}

export async function listAppEvents(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  page: PageRequest,
): Promise<Page<AppEvent>> {
  const app = await getAppRecord(deps, tenantId, name);
  const events = await deps.store.listAppEvents(tenantId, app.uid, page);
  return {
    items: events.items.map(({ tenantId: _t, appUid: _a, ...event }) => inSchemaOrder(AppEvent, event)),
    nextCursor: events.nextCursor,
  };
}
