import { periodOf, pricesOf } from '../core/billing.ts';
import { mapEachWithLimit } from '../core/map-with-limit.ts';
import { accrual, recordLifetimes } from '../core/metering.ts';
import type { CoreDeps, LifetimeRecord, MeterStore, Runtime } from '../core/ports.ts';
import { evaluateUsageCaps } from '../core/usage-caps.ts';
import { listEveryBilledTenant } from '../core/walk.ts';

export interface MeterDeps extends CoreDeps {
  runtime: Pick<Runtime, 'listReplicas'>;
  /** Where a tenant whose metering failed is told of; the others are metered all the same. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

/** One write accrues at most this many hours (a transaction holds at most 100 items). */
const MAX_HOURS_PER_WRITE = 48;

/**
 * How long after its deletion a tenant's lifetimes are still metered, to their ends: its last replicas stop as its
 * last app goes, moments before, and a stop can be seen late (a replica seen gone only after VANISHED_AFTER_SECONDS,
 * ECS's stop events up to two hours late). Its usage is billed in its last report (report.ts).
 */
const DELETED_TENANTS_METERED_MS = 3 * 24 * 3_600_000;

/** Tenants metered at once; one tenant's lifetimes are accrued one after another (they add to the same rows). */
const TENANTS_IN_FLIGHT = 8;

/**
 * The meter job: keeps the price table in force as the month's, if this is the month's first run (see pricesOf),
 * records the lifetimes of the replicas the runtime reports, then accrues every open lifetime up to now (running) or
 * its stop (closing it) — a recently deleted tenant's too — then checks each tenant against its plan's monthly caps.
 * Idempotent: each accrual moves a watermark conditionally, so a duplicated, late, skipped or concurrent run, or a
 * restart, neither counts a second twice nor leaves one out.
 */
export async function meterUsage(deps: MeterDeps): Promise<{ accrued: number; closed: number }> {
  const now = deps.clock.now();
  await pricesOf(deps, periodOf(now));
  const nowSec = Math.floor(now.getTime() / 1000);
  const replicas = await deps.runtime.listReplicas();
  // Listed and not exited: an exited replica's stop may not be known (one that ended with the machine's is not).
  const running = new Set(replicas.filter((r) => r.state !== 'exited').map((r) => r.id));
  const byTenant = Map.groupBy(replicas, (r) => r.tenantId);
  const tenants = (await listEveryBilledTenant(deps.store)).filter(
    (tenant) =>
      !('deletedAt' in tenant) || nowSec * 1000 - Date.parse(tenant.deletedAt) < DELETED_TENANTS_METERED_MS,
  );
  // One tenant's failure holds up none of the others' usage; the run fails after them all, so it is seen (and its
  // watermarks let the next run go on from where each tenant's metering stopped).
  const { results, failures } = await mapEachWithLimit(tenants, TENANTS_IN_FLIGHT, async (tenant) => {
    const lifetimes = await recordLifetimes(deps.meter, tenant.id, byTenant.get(tenant.id) ?? []);
    const accrued = [];
    for (const lifetime of lifetimes) {
      accrued.push(await accrueLifetime(deps.meter, lifetime, running.has(lifetime.instanceId), nowSec));
    }
    if (!('deletedAt' in tenant)) await evaluateUsageCaps(deps, tenant);
    return accrued;
  });
  for (const { item, error } of failures)
    deps.logger.error('could not meter a tenant', { tenantId: item.id, error });
  if (failures.length > 0) {
    const failed = failures.map(({ item }) => item.id).sort();
    throw new Error(`metering failed for ${failed.join(', ')} (each is logged); the other tenants' is done`);
  }
  const all = results.flat();
  return {
    accrued: all.filter((o) => o === 'accrued' || o === 'closed').length,
    closed: all.filter((o) => o === 'closed').length,
  };
}

/**
 * A replica the runtime has not reported running for this long, with no stop recorded, has vanished (removed behind
 * Berth's back, or ended when no one saw); shorter absences are a runtime's listing lagging its events, and are waited
 * out.
 */
const VANISHED_AFTER_SECONDS = 15 * 60;

/**
 * Accrues one lifetime. One that vanished without a recorded stop ends where it was last metered: the seconds after
 * that cannot be known.
 */
async function accrueLifetime(
  meter: MeterStore,
  lifetime: LifetimeRecord,
  running: boolean,
  nowSec: number,
): Promise<'unchanged' | 'accrued' | 'closed' | 'lost'> {
  if (lifetime.stoppedSec === null && !running && nowSec - lifetime.meteredSec < VANISHED_AFTER_SECONDS) {
    return 'unchanged';
  }
  const closing = lifetime.stoppedSec !== null || !running;
  const end = Math.max(lifetime.meteredSec, lifetime.stoppedSec ?? (running ? nowSec : lifetime.meteredSec));
  let current = lifetime;
  for (;;) {
    const to = Math.min(end, current.meteredSec + MAX_HOURS_PER_WRITE * 3600);
    const close = closing && to === end;
    if (to === current.meteredSec && !close) return current === lifetime ? 'unchanged' : 'accrued';
    if (!(await meter.accrueLifetime(current, to, accrual(current, current.meteredSec, to, close), close))) {
      return 'lost'; // another meter moved it first; the next run starts from its watermark
    }
    if (close) return 'closed';
    current = { ...current, meteredSec: to };
  }
}
