import type { PlanLimits } from '../../schemas/plan.ts';
import type { TenantUsage } from '../../schemas/tenant.ts';
import { recordAppEvent } from './app-events.ts';
import { periodHours, periodOf, pricesOf } from './billing.ts';
import { billedTotals, costMicroUsd, dollars } from './billing-math.ts';
import { QuotaExceededError } from './errors.ts';
import type { CoreDeps, Reservation, TenantRecord, UsageCapState } from './ports.ts';
import { sameValue } from './same-value.ts';
import { allApps, listEveryUsage } from './walk.ts';

const WARN_AT = 0.8;

const hasCaps = (limits: PlanLimits) =>
  limits.maxMonthlyCost !== undefined || limits.maxMonthlyInstanceHours !== undefined;

/** The highest fraction of a monthly cap the usage has reached (0 without caps). */
function capFraction(limits: PlanLimits, costMicro: number, instanceSeconds: number): number {
  const fractions = [
    limits.maxMonthlyCost !== undefined
      ? costMicro / Math.max(1, Math.round(limits.maxMonthlyCost * 1e6))
      : 0,
    limits.maxMonthlyInstanceHours !== undefined
      ? instanceSeconds / Math.max(1, limits.maxMonthlyInstanceHours * 3600)
      : 0,
  ];
  return Math.max(...fractions);
}

function capLevel(limits: PlanLimits, costMicro: number, instanceSeconds: number): UsageCapState['level'] {
  const fraction = capFraction(limits, costMicro, instanceSeconds);
  return fraction >= 1 ? 'exceeded' : fraction >= WARN_AT ? 'warned' : 'ok';
}

/**
 * Run by the meter after each accrual: compares the tenant's month to date with its plan's caps and, on crossing 80 %
 * or 100 %, records it once (a conditional write) and tells every app of the tenant with an event.
 */
export async function evaluateUsageCaps(deps: CoreDeps, tenant: TenantRecord): Promise<void> {
  const plan = await deps.store.getPlan(tenant.plan);
  if (!plan || !hasCaps(plan.limits)) return;
  const period = periodOf(deps.clock.now());
  const { first, last } = periodHours(period);
  // The state before the usage: a meter that wrote it after this read accrued before writing, so this usage holds
  // that meter's, and one that writes it meanwhile makes this write's condition fail. Read the other way round, a
  // meter's usage from before another's accrual could take the state back from what that one wrote.
  const previous = await deps.store.getUsageCapState(tenant.id);
  const prices = await pricesOf(deps, period);
  const usage = await listEveryUsage(deps.store, tenant.id, first, last);
  const totals = billedTotals(usage, prices);
  const costMicro = costMicroUsd(totals, prices);
  const level = capLevel(plan.limits, costMicro, totals.instanceSeconds);
  const next: UsageCapState = {
    period,
    level,
    costMicroUsd: costMicro,
    instanceSeconds: totals.instanceSeconds,
  };
  if (sameValue(next, previous)) return;
  if (!(await deps.store.putUsageCapState(tenant.id, next, previous))) return; // another meter did it
  const before = previous?.period === period ? previous.level : 'ok';
  if (level === before || level === 'ok' || (before === 'exceeded' && level === 'warned')) return;
  const what =
    level === 'exceeded'
      ? 'has reached its monthly cap: more replicas, vCPU or memory are refused until next month (running apps keep running)'
      : 'has used 80 % of its monthly cap';
  for await (const app of allApps(deps.store, tenant.id)) {
    await recordAppEvent(
      deps,
      app,
      level === 'exceeded' ? 'usageCapReached' : 'usageWarning',
      `tenant ${what}`,
      {
        period,
        cost: dollars(costMicro),
        instanceHours: totals.instanceSeconds / 3600,
        maxMonthlyCost: plan.limits.maxMonthlyCost ?? null,
        maxMonthlyInstanceHours: plan.limits.maxMonthlyInstanceHours ?? null,
      },
    );
  }
}

/**
 * The month's level against the plan's caps as they are now, of the usage the meter last found: a cap raised, or a
 * move to another plan, counts at once, not from the meter's next run (which records the level and tells the apps).
 */
function levelNow(deps: CoreDeps, state: UsageCapState | undefined, limits: PlanLimits) {
  if (state?.period !== periodOf(deps.clock.now())) return undefined;
  return { ...state, level: capLevel(limits, state.costMicroUsd, state.instanceSeconds) };
}

/**
 * Whether the tenant has reached a monthly cap of its plan, by the usage the meter last found: nothing may add
 * capacity.
 */
export async function usageCapReached(
  deps: CoreDeps,
  tenantId: string,
  limits: PlanLimits,
): Promise<boolean> {
  if (!hasCaps(limits)) return false;
  return levelNow(deps, await deps.store.getUsageCapState(tenantId), limits)?.level === 'exceeded';
}

/**
 * Refuses a write that adds capacity — vCPU or memory, either of which the month is billed by — while the tenant is
 * over its monthly cap.
 */
export async function assertUnderUsageCap(
  deps: CoreDeps,
  tenant: TenantRecord,
  limits: PlanLimits,
  delta: Reservation,
): Promise<void> {
  if (delta.vcpuMilli <= 0 && delta.memoryMiB <= 0) return;
  if (await usageCapReached(deps, tenant.id, limits)) {
    throw new QuotaExceededError(
      `tenant "${tenant.id}" has reached its plan's monthly cap; more replicas, vCPU or memory are refused until next month or a larger plan`,
    );
  }
}

/** The tenant overview's view of the monthly caps. */
export async function monthlyCapView(
  deps: CoreDeps,
  tenantId: string,
  limits: PlanLimits,
): Promise<TenantUsage['monthlyCap']> {
  if (!hasCaps(limits)) return null;
  const current = levelNow(deps, await deps.store.getUsageCapState(tenantId), limits);
  return {
    period: periodOf(deps.clock.now()),
    level: current?.level ?? 'ok',
    cost: dollars(current?.costMicroUsd ?? 0),
    instanceHours: (current?.instanceSeconds ?? 0) / 3600,
  };
}
