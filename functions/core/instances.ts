import type { Page } from '../../schemas/common.ts';
import {
  AppEvent,
  type AppMetrics,
  durationMs,
  durationOf,
  type Instance,
  type LogQuery,
} from '../../schemas/instance.ts';
import { waitUnlessAborted } from './abortable-wait.ts';
import { getAppRecord } from './apps.ts';
import { codeUnitOrder } from './code-unit-order.ts';
import { UnavailableError } from './errors.ts';
import { type LineSource, mergeAsTheyCome, mergeByTime, writtenSince } from './log-merge.ts';
import type {
  AppRecord,
  CoreDeps,
  LogOptions,
  PageRequest,
  Replica,
  ReplicaInsight,
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

/** A replica's health: its exit, then its stop, then what its checks said. */
function healthOf(replica: Replica, insight: ReplicaInsight): Instance['health'] {
  if (replica.state === 'exited') return 'stopped';
  if (replica.stopping) return 'stopping';
  if (insight.unhealthy) return 'unhealthy';
  return insight.ready ? 'healthy' : 'starting';
}

async function readInstances(view: ReplicaView, app: AppRecord): Promise<Instance[]> {
  const { tenantId } = app;
  const replicas = (await view.runtime.listReplicas({ tenantId, appUid: app.uid, app: app.name })).sort(
    byStart,
  );
  const [{ stats: allStats }, insights] = await Promise.all([
    view.metrics.replicaStats(
      replicas.filter((r) => r.state === 'running'),
      undefined,
      ['cpuPercent', 'memoryMiB'],
    ),
    view.replicaInsights(app, replicas),
  ]);
  return replicas.map((replica) => {
    const insight = insights.get(replica.id) ?? { ready: false, unhealthy: false, restarts: 0 };
    const stats = allStats.get(replica.id);
    return {
      id: replica.id,
      revision: replica.revision,
      state: replica.state,
      health: healthOf(replica, insight),
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

/** How often a followed log looks for replicas that started since: the engine's or ECS's list, read again. */
const FOLLOW_RELIST_MS = 5000;

/**
 * What a replica's log lines are prefixed with: the last part of its id (an ECS task's id out of its ARN, a pod's
 * name out of `<namespace>/<pod>`), and a hex id (a container's, a task's) cut to 12 characters, as `docker ps`
 * shows a container's.
 */
export function shortReplicaId(id: string): string {
  const last = id.slice(id.lastIndexOf('/') + 1);
  return /^[0-9a-f]{13,}$/.test(last) ? last.slice(0, 12) : last;
}

/**
 * Log lines of every replica, each prefixed by its short id: the last `tail` lines of each (after `since`), merged in
 * the order they were written; with `follow`, as they come instead, and new ones until `signal` aborts — of replicas
 * that start meanwhile too (a deploy's, a restart's, a crashed one's replacement), from their first line, as `fly
 * logs` goes on across deploys.
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
  const filter = { tenantId, appUid: app.uid, app: app.name };
  const replicas = (await view.runtime.listReplicas(filter)).sort(byStart);
  const since = query.since
    ? /^\d+[smhd]$/.test(query.since)
      ? new Date(deps.clock.now().getTime() - durationMs(query.since))
      : new Date(query.since)
    : undefined;
  const follow = query.follow === 'true';
  const options = { tail: query.tail, follow, signal, ...(since ? { since } : {}) };
  const source = (replica: Replica, from: LogOptions): LineSource => {
    const lines = view.logs.replicaLogs(replica, from);
    return {
      prefix: shortReplicaId(replica.id),
      lines: from.since ? writtenSince(lines, from.since) : lines,
    };
  };
  const seen = new Set(replicas.map((r) => r.id));
  /** Whether the app may start more replicas: not once it is being deleted, or gone (another of its name too). */
  const mayStartMore = async () => {
    // A read that fails is tried again at the next turn.
    const now = await deps.store.getApp(tenantId, name).catch(() => app);
    return now?.uid === app.uid && now.status !== 'deleting';
  };
  /**
   * Replicas listed since the follow began, each once, until the follow ends — or the app is deleted, when the lines
   * of its last replicas end the follow.
   */
  async function* joining(): AsyncIterable<LineSource> {
    while ((await waitUnlessAborted(FOLLOW_RELIST_MS, signal)) && (await mayStartMore())) {
      // A list that fails is tried again at the next turn: the replicas followed already go on meanwhile.
      const listed = await view.runtime.listReplicas(filter).catch(() => []);
      for (const replica of listed.sort(byStart)) {
        if (seen.has(replica.id)) continue;
        seen.add(replica.id);
        yield source(replica, { follow: true, signal });
      }
    }
  }
  const sources = replicas.map((replica) => source(replica, options));
  return follow ? mergeAsTheyCome(sources, joining()) : mergeByTime(sources);
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
