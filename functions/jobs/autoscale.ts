import type { RuntimeName } from '../../schemas/app.ts';
import { recordAppEvent } from '../core/app-events.ts';
import { autoscaleTo } from '../core/apps.ts';
import {
  boundsAt,
  DEFAULT_SCALE_IN_STABILIZATION_SECONDS,
  decideScale,
  recommendReplicas,
} from '../core/autoscale.ts';
import { isDomainError } from '../core/errors.ts';
import { mapWithLimit } from '../core/map-with-limit.ts';
import type { AppRecord, CoreDeps, ReplicaView, TenantRecord } from '../core/ports.ts';
import { maxReplicasWithin } from '../core/quota.ts';
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

const mean = (values: number[]) =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

/**
 * The scale job: for every app with `scaling`, target tracking on its replicas' utilisation and the schedule in
 * force. Idempotent: a rerun with the same inputs decides the same; every change is an app event with its inputs.
 * An app that fails (its runtime or metrics did not answer) is logged and counted, and holds up no other.
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
  const outcomes = await mapWithLimit(scalable, APPS_IN_FLIGHT, ({ tenant, app }) =>
    autoscaleApp(deps, tenant, app).then(
      (scaled) => (scaled ? 'scaled' : 'unchanged'),
      (err: unknown) => {
        deps.logger.error('could not autoscale an app', {
          tenantId: app.tenantId,
          app: app.name,
          error: String(err),
        });
        return 'failed';
      },
    ),
  );
  return {
    scaled: outcomes.filter((o) => o === 'scaled').length,
    failed: outcomes.filter((o) => o === 'failed').length,
  };
}

async function autoscaleApp(deps: AutoscaleDeps, tenant: TenantRecord, app: AppRecord): Promise<boolean> {
  const scaling = app.scaling;
  const plan = await deps.store.getPlan(tenant.plan);
  const view = deps.views[app.spec.runtime];
  if (!scaling || !plan || !view) return false;
  const now = deps.clock.now();
  const running = (
    await view.runtime.listReplicas({
      tenantId: app.tenantId,
      appUid: app.uid,
      app: app.name,
    })
  ).filter((r) => r.state === 'running');
  const samples = [...(await view.metrics.replicaStats(running.map((r) => r.id))).values()];
  const utilisation = {
    cpuPercent: mean(samples.map((s) => s.cpuPercent)),
    memoryPercent: mean(samples.map((s) => s.memoryPercent)),
  };
  const bounds = boundsAt(scaling, now);
  const recommended = samples.length ? recommendReplicas(app.replicas, utilisation, scaling) : app.replicas;
  const windowSeconds = scaling.scaleInStabilizationSeconds ?? DEFAULT_SCALE_IN_STABILIZATION_SECONDS;
  const decision = decideScale({
    current: app.replicas,
    recommended,
    bounds,
    planMax: maxReplicasWithin(plan.limits, tenant.reserved, app),
    deploying: app.status === 'deploying',
    nowMs: now.getTime(),
    windowSeconds,
    state: await deps.store.getScalerState(app.tenantId, app.uid),
  });
  await deps.store.putScalerState(app.tenantId, app.uid, decision.state);
  if (decision.replicas === app.replicas) return false;
  try {
    await autoscaleTo(deps, app, decision.replicas);
  } catch (err) {
    // A manual change, a plan change or another scaler got there first: the next run decides again.
    if (isDomainError(err, 'precondition.failed') || isDomainError(err, 'quota.exceeded')) return false;
    throw err;
  }
  await recordAppEvent(
    deps,
    app,
    'scaled',
    `autoscaled from ${app.replicas} to ${decision.replicas}: ${decision.reason}`,
    {
      from: app.replicas,
      to: decision.replicas,
      reason: decision.reason,
      recommended,
      cpuPercent: utilisation.cpuPercent ?? null,
      memoryPercent: utilisation.memoryPercent ?? null,
      targetCpuPercent: scaling.targetCpuPercent ?? null,
      targetMemoryPercent: scaling.targetMemoryPercent ?? null,
      samples: samples.length,
      min: bounds.min,
      max: bounds.max,
      schedule: bounds.schedule,
      stabilizationSeconds: windowSeconds,
    },
  );
  return true;
}
