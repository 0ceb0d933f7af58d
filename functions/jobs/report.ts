import { buildReport, periodOf, previousPeriod } from '../core/billing.ts';
import { reportsCsv } from '../core/billing-csv.ts';
import type { CoreDeps, ReportArchive } from '../core/ports.ts';
import { allTenants } from '../core/walk.ts';

/**
 * The report job: builds and stores every tenant's final report for `period` (default: the month before now, which
 * the meter has closed once it ran after the month ended), and files it as CSV. Idempotent: a rerun rebuilds and
 * overwrites the same report.
 */
export interface ReportDeps extends CoreDeps {
  /** Where each final report is filed for finance. */
  reportArchive: ReportArchive;
}

export async function buildMonthlyReports(deps: ReportDeps, period?: string): Promise<number> {
  const month = period ?? previousPeriod(periodOf(deps.clock.now()));
  let built = 0;
  for await (const tenant of allTenants(deps.store)) {
    const report = await buildReport(deps, tenant.id, month, 'final');
    await deps.meter.putReport(report);
    await deps.reportArchive.store(report, reportsCsv([report]));
    built += 1;
  }
  return built;
}
