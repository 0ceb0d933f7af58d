import type { RuntimeName, Scaling } from '../../schemas/app.ts';
import { autoscaleHeld, autoscaleTo } from '../core/apps.ts';
import {
  boundsAt,
  DEFAULT_SCALE_IN_STABILIZATION_SECONDS,
  decideScale,
  trackedFigures,
  trackedMetrics,
  trackWarmReplicas,
  type Utilisation,
  warmedUp,
} from '../core/autoscale.ts';
import { isDomainError } from '../core/errors.ts';
import { mapEachWithLimit } from '../core/map-with-limit.ts';
import type { AppRecord, CoreDeps, Replica, ReplicaView, TenantRecord } from '../core/ports.ts';
import { maxReplicasWithin } from '../core/quota.ts';
import { usageCapReached } from '../core/usage-caps.ts';
import { allApps, allTenants } from '../core/walk.ts';

export interface AutoscaleDeps extends CoreDeps {
  /** Replicas and their utilisation, of each runtime this job scales apps on. */
  views: Partial<Record<RuntimeName, Pick<ReplicaView, 'runtime' | 'metrics'>>>;
  /** Where an app that could not be scaled is reported; the others are scaled all the same. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

/**
 * Apps looked at at once: each waits on the runtime (replicas) and on metrics, so one after the other a run would
 * take longer than the minute between runs from a few hundred apps on.
 */
const APPS_IN_FLIGHT = 8;

/**
 * The scale job: for every app with `scaling`, target tracking on its replicas' utilisation and the schedule in
 * force. Idempotent: a rerun with the same inputs decides the same; every change is an app event with its inputs, as
 * is a scale out held back (by max, the plan or the tenant's monthly cap) when the hold begins.
 * Each runtime's replicas are listed once a run (ECS: the cluster's tasks in pages and hundreds, not three calls an
 * app), then the apps are looked at eight at once. An app that fails (its metrics did not answer) is logged and
 * counted, and holds up no other; a runtime that cannot be listed fails its apps.
 */
export async function autoscale(deps: AutoscaleDeps): Promise<{ scaled: number; failed: number }> {
  const scalable: { tenant: TenantRecord; app: AppRecord }[] = [];
  for await (const tenant of allTenants(deps.store)) {
    if (tenant.status !== 'active') continue;
    for await (const app of allApps(deps.store, tenant.id)) {
      if (app.scaling && app.status !== 'stopped' && app.status !== 'deleting')
        scalable.push({ tenant, app });
    }
  }
  const running = new Map<RuntimeName, Promise<Map<string, Replica[]>>>();
  const runningOf = (runtime: RuntimeName, view: Pick<ReplicaView, 'runtime'>) => {
    let listed = running.get(runtime);
    if (!listed) {
      listed = view.runtime.listReplicas().then(runningByApp);
      running.set(runtime, listed);
    }
    return listed;
  };
  const { results, failures } = await mapEachWithLimit(scalable, APPS_IN_FLIGHT, ({ tenant, app }) =>
    autoscaleApp(deps, tenant, app, runningOf),
  );
  for (const { item, error } of failures) {
    deps.logger.error('could not autoscale an app', {
      tenantId: item.app.tenantId,
      app: item.app.name,
      error,
    });
  }
  return { scaled: results.filter(Boolean).length, failed: failures.length };
}

/**
 * The running replicas of a runtime's listing, by app uid; not those stopping, out of traffic already: their idle
 * figures would pull the app's utilisation down.
 */
const runningByApp = (replicas: Replica[]) =>
  Map.groupBy(
    replicas.filter((r) => r.state === 'running' && !r.stopping),
    (r) => r.appUid,
  );

/**
 * What target tracking went by, for the event: `CPU at 97 %, target 50 %`, for each metric with a target, and the
 * replicas it set aside in their warm-up.
 */
function measured(utilisation: Utilisation, scaling: Scaling, warming: number): { measured?: string } {
  const shown = trackedMetrics(utilisation, scaling).map(
    ({ name, value, target }) => `${name} at ${Math.round(value)} %, target ${target} %`,
  );
  if (warming > 0) shown.push(`${warming} warming up`);
  return shown.length ? { measured: shown.join('; ') } : {};
}

async function autoscaleApp(
  deps: AutoscaleDeps,
  tenant: TenantRecord,
  app: AppRecord,
  runningOf: (runtime: RuntimeName, view: Pick<ReplicaView, 'runtime'>) => Promise<Map<string, Replica[]>>,
): Promise<boolean> {
  const scaling = app.scaling;
  const plan = await deps.store.getPlan(tenant.plan);
  const view = deps.views[app.spec.runtime];
  if (!scaling || !plan || !view) return false;
  const now = deps.clock.now();
  const running = (await runningOf(app.spec.runtime, view)).get(app.uid) ?? [];
  const figures = trackedFigures(scaling);
  const { stats } = figures.length
    ? await view.metrics.replicaStats(running, undefined, figures)
    : { stats: new Map<string, never>() };
  const warm = running.filter((r) => warmedUp(r, now.getTime()));
  const samples = warm.flatMap((r) => stats.get(r.id) ?? []);
  const warming = running.length - warm.length;
  const { utilisation, recommended } = trackWarmReplicas(app.replicas, samples, warming, scaling);
  const bounds = boundsAt(scaling, now);
  const windowSeconds = scaling.scaleInStabilizationSeconds ?? DEFAULT_SCALE_IN_STABILIZATION_SECONDS;
  const previous = await deps.store.getScalerState(app.tenantId, app.uid);
  const decision = decideScale({
    current: app.replicas,
    recommended,
    bounds,
    planMax: maxReplicasWithin(plan.limits, tenant.reserved, app),
    capReached: await usageCapReached(deps, tenant.id, plan.limits),
    deploying: app.status === 'deploying',
    nowMs: now.getTime(),
    windowSeconds,
    state: previous,
  });
  await deps.store.putScalerState(app.tenantId, app.uid, decision.state);
  // What the decision went by, in the event that tells it.
  const inputs = {
    reason: decision.reason,
    ...(decision.tracking ? measured(utilisation, scaling, warming) : {}),
    recommended,
    cpuPercent: utilisation.cpuPercent ?? null,
    memoryPercent: utilisation.memoryPercent ?? null,
    targetCpuPercent: scaling.targetCpuPercent ?? null,
    targetMemoryPercent: scaling.targetMemoryPercent ?? null,
    samples: samples.length,
    warmingUp: warming,
    min: bounds.min,
    max: bounds.max,
    schedule: bounds.schedule,
    stabilizationSeconds: windowSeconds,
  };
  if (decision.replicas === app.replicas) {
    // A hold is told when it begins, or when something else holds the app back: not at every run it lasts.
    const { heldBy } = decision.state;
    if (heldBy && heldBy !== previous?.heldBy) await autoscaleHeld(deps, app, inputs);
    return false;
  }
  try {
    await autoscaleTo(deps, app, decision.replicas, inputs);
  } catch (err) {
    // A manual change or another scaler got there first (the version moved), the plan has no room, or the app kept
    // changing through every attempt: the next run decides again. Nor was the scale's word on what held it back
    // said, so a hold that follows is told.
    if (!['precondition.failed', 'quota.exceeded', 'conflict'].some((code) => isDomainError(err, code)))
      throw err;
    const { recommendations } = decision.state;
    if (decision.state.heldBy) await deps.store.putScalerState(app.tenantId, app.uid, { recommendations });
    return false;
  }
  return true;
}
