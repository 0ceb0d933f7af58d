import { buildReport, periodOf, previousPeriod } from '../core/billing.ts';
import type { CoreDeps } from '../core/ports.ts';

const TENANT_PAGE = 100;

/**
 * The report job: builds and stores every tenant's final report for `period` (default: the month before now, which
 * the meter has closed once it ran after the month ended). Idempotent: a rerun rebuilds the same report.
 */
export async function buildMonthlyReports(deps: CoreDeps, period?: string): Promise<number> {
  const month = period ?? previousPeriod(periodOf(deps.clock.now()));
  let built = 0;
  let cursor: string | undefined;
  do {
    const tenants = await deps.store.listTenants({ limit: TENANT_PAGE, cursor });
    for (const tenant of tenants.items) {
      await deps.meter.putReport(await buildReport(deps, tenant.id, month, 'final'));
      built += 1;
    }
    cursor = tenants.nextCursor ?? undefined;
  } while (cursor);
  return built;
}
