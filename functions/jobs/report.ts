import { buildReport, periodOf, previousPeriod } from '../core/billing.ts';
import type { CoreDeps } from '../core/ports.ts';
import { allTenants } from '../core/walk.ts';

/**
 * The report job: builds and stores every tenant's final report for `period` (default: the month before now, which
 * the meter has closed once it ran after the month ended). Idempotent: a rerun rebuilds the same report.
 */
export async function buildMonthlyReports(deps: CoreDeps, period?: string): Promise<number> {
  const month = period ?? previousPeriod(periodOf(deps.clock.now()));
  let built = 0;
  for await (const tenant of allTenants(deps.store)) {
    await deps.meter.putReport(await buildReport(deps, tenant.id, month, 'final'));
    built += 1;
  }
  return built;
}
