import {
  buildReport,
  existedIn,
  nextPeriod,
  periodEndMs,
  periodOf,
  previousPeriod,
} from '../core/billing.ts';
import { reportsCsv } from '../core/billing-csv.ts';
import { mapEachWithLimit, mapWithLimit } from '../core/map-with-limit.ts';
import type { BilledTenant, CoreDeps, ReportArchive } from '../core/ports.ts';
import { listEveryBilledTenant } from '../core/walk.ts';

export interface ReportDeps extends CoreDeps {
  /** Where each report it builds is filed for finance, with its status. */
  reportArchive: ReportArchive;
  /** Where a tenant whose report failed is told of; the others' are built all the same. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

/**
 * A month's usage can still change for a while after it ends: a late ECS task event (kept two hours), a short
 * lifetime's minimum billed when it closes (up to an hour), a meter that was down. A report built this long after
 * the month ended is final, and not built again; one built before is a draft.
 */
export const REPORT_SETTLES_AFTER_MS = 3 * 24 * 3_600_000;

/** Tenants whose reports are read, and built, at once. */
const READS_IN_FLIGHT = 16;
const BUILDS_IN_FLIGHT = 8;

export interface ReportRun {
  /** Reports built (or built again) and filed by this run. */
  built: number;
  /** Reports that still want building when the run reached its deadline: the next run starts with them. */
  left: number;
}

/**
 * The report job: builds, stores and files as CSV each tenant's report for every month from the first whose reports
 * may not all be final to the month before now (which the meter has closed once it ran after the month ended), or for
 * `period` alone. Reports are built again on later runs, picking up late usage, as drafts until one is built
 * REPORT_SETTLES_AFTER_MS after the month: that one is final and is not built again (a report marked final never
 * changes, as a finalized invoice does not). Once a month's reports, and every earlier month's, are all final, the
 * month is recorded (MeterStore.reportsFinalThrough) and no run reads it again; so a month the job missed (failing,
 * or the platform off, from before the month settled until the next month ended) is built by the next run, rather
 * than left a draft, and never filed, for good. Before any month is recorded, the months go back to the first
 * tenant's. Each run takes the oldest month first, in a month the tenants without a report first, then the oldest
 * reports, and starts no report after `deadlineMs`, so a run that cannot finish in its Lambda's time leaves the rest
 * to the next one instead of starting over.
 */
export async function buildMonthlyReports(
  deps: ReportDeps,
  options: { period?: string; deadlineMs?: number } = {},
): Promise<ReportRun> {
  const tenants = await listEveryBilledTenant(deps.store);
  const months = options.period ? [options.period] : await monthsToReport(deps, tenants);
  const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
  const run: ReportRun = { built: 0, left: 0 };
  const failed: [string, string[]][] = [];
  let finalSoFar = options.period === undefined;
  for (const month of months) {
    const { built, left, failures, final } = await buildReportsOf(deps, month, tenants, deadline);
    run.built += built;
    run.left += left;
    if (failures.length > 0) failed.push([month, failures]);
    finalSoFar &&= final;
    if (finalSoFar) await deps.meter.markReportsFinalThrough(month);
  }
  if (failed.length > 0) {
    const named = failed.map(([month, ids]) => `the ${month} reports of ${ids.join(', ')}`).join('; ');
    throw new Error(`${named} failed (each is logged); the others are filed`);
  }
  return run;
}

/** The months from the first whose reports may not all be final to the month before now, oldest first. */
async function monthsToReport(deps: ReportDeps, tenants: BilledTenant[]): Promise<string[]> {
  const last = previousPeriod(periodOf(deps.clock.now()));
  const through = await deps.meter.reportsFinalThrough();
  let month = through ? nextPeriod(through) : tenants.map((t) => periodOf(new Date(t.createdAt))).sort()[0];
  const months: string[] = [];
  for (; month !== undefined && month <= last; month = nextPeriod(month)) months.push(month);
  return months;
}

/** One month's reports, as buildMonthlyReports builds them; `final` once every one of them is. */
async function buildReportsOf(deps: ReportDeps, month: string, tenants: BilledTenant[], deadline: number) {
  const settledAt = periodEndMs(month) + REPORT_SETTLES_AFTER_MS;
  // A tenant created after the month, or deleted before it, has no report for it.
  const there = tenants.filter((tenant) => existedIn(tenant, month));
  const reports = await mapWithLimit(there, READS_IN_FLIGHT, async ({ id: tenantId }) => {
    const report = await deps.meter.getReport(tenantId, month);
    return { tenantId, final: report?.status === 'final', at: Date.parse(report?.generatedAt ?? '') || 0 };
  });
  // Never built (0) first, then the oldest.
  const due = reports.filter(({ final }) => !final).sort((a, b) => a.at - b.at);
  // Decided once for the month, so that a run under way as it settles marks it final only once every report is.
  const settled = deps.clock.now().getTime() >= settledAt;
  // One tenant's failure holds up none of the others' reports; the run fails after them all, so it is seen.
  const { results: done, failures } = await mapEachWithLimit(due, BUILDS_IN_FLIGHT, async ({ tenantId }) => {
    if (deps.clock.now().getTime() >= deadline) return false;
    const report = await buildReport(deps, tenantId, month, settled ? 'final' : 'draft');
    await deps.meter.putReport(report);
    await deps.reportArchive.store(report, reportsCsv([report]));
    return true;
  });
  for (const { item, error } of failures) {
    deps.logger.error('could not build a report', { tenantId: item.tenantId, period: month, error });
  }
  const built = done.filter(Boolean).length;
  return {
    built,
    left: due.length - built - failures.length,
    failures: failures.map(({ item }) => item.tenantId).sort(),
    final: settled && built === due.length,
  };
}
