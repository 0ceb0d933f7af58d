import { type BillingLineItem, BillingReport, type PriceTable } from '../../schemas/billing.ts';
import type { Page } from '../../schemas/common.ts';
import { billedTotals, billsNothing, costMicroUsd, dollars, quantities } from './billing-math.ts';
import { codeUnitOrder } from './code-unit-order.ts';
import { NotFoundError } from './errors.ts';
import { mapWithLimit } from './map-with-limit.ts';
import { countWithinPageBytes } from './page-bytes.ts';
import type { BilledTenant, CoreDeps, PageRequest, UsageRecord } from './ports.ts';
import { inSchemaOrder } from './schema-order.ts';
import { getTenantRecord } from './tenants.ts';
import { listEveryUsage } from './walk.ts';

/** The first and last UTC hour (`YYYY-MM-DDTHH`) of a `YYYY-MM` period. */
export function periodHours(period: string): { first: string; last: string } {
  const last = new Date(periodEndMs(period) - 3_600_000);
  return { first: `${period}-01T00`, last: last.toISOString().slice(0, 13) };
}

/** When a `YYYY-MM` period ends: the next month's first instant (UTC), in ms. */
export function periodEndMs(period: string): number {
  const [year = 0, month = 1] = period.split('-').map(Number);
  return Date.UTC(year, month, 1);
}

/** The month an instant falls in, `YYYY-MM` (UTC). */
export const periodOf = (at: Date) => at.toISOString().slice(0, 7);

/** The month after `period`. */
export const nextPeriod = (period: string) => periodOf(new Date(periodEndMs(period)));

/** The month before `period`. */
export function previousPeriod(period: string): string {
  const [year = 0, month = 1] = period.split('-').map(Number);
  return new Date(Date.UTC(year, month - 2, 1)).toISOString().slice(0, 7);
}

/**
 * The price table `period` is billed by: the one in force when the meter first ran in the month (see
 * MeterStore.monthPrices), so that a table deployed during a month applies from the next, and none reprices a month
 * billed already.
 */
export const pricesOf = (deps: Pick<CoreDeps, 'meter' | 'prices'>, period: string) =>
  deps.meter.monthPrices(period, deps.prices);

function priced(records: UsageRecord[], prices: PriceTable) {
  const totals = billedTotals(records, prices);
  const micro = costMicroUsd(totals, prices);
  return { ...quantities(totals), costMicroUsd: micro, cost: dollars(micro) };
}

/**
 * A tenant's report for one month: a line item per app, each priced once from its exact integer usage; the total is
 * the sum of the line items, as on an invoice.
 */
export async function buildReport(
  deps: CoreDeps,
  tenantId: string,
  period: string,
  status: BillingReport['status'],
): Promise<BillingReport> {
  const { first, last } = periodHours(period);
  const usage = await listEveryUsage(deps.store, tenantId, first, last);
  const prices = await pricesOf(deps, period);
  const lineItems: BillingLineItem[] = [...Map.groupBy(usage, (record) => record.app).entries()]
    .filter(([, records]) => !billsNothing(records, prices))
    .sort(([a], [b]) => codeUnitOrder(a, b))
    .map(([app, records]) => ({ app, ...priced(records, prices) }));
  const sum = (pick: (item: BillingLineItem) => number) => lineItems.reduce((n, item) => n + pick(item), 0);
  const totalMicro = sum((i) => i.costMicroUsd);
  const totals = billedTotals(usage, prices);
  return {
    tenant: tenantId,
    period,
    status,
    priceTable: prices,
    lineItems,
    total: { ...quantities(totals), costMicroUsd: totalMicro, cost: dollars(totalMicro) },
    generatedAt: deps.clock.now().toISOString(),
  };
}

/**
 * The stored report of a closed month (its fields in the schema's order, as a draft's: the table keeps no order in
 * a map), or a draft built now (the current month, or before the report job ran).
 */
async function storedOrDraft(deps: CoreDeps, tenantId: string, period: string): Promise<BillingReport> {
  const stored = await deps.meter.getReport(tenantId, period);
  return stored ? inSchemaOrder(BillingReport, stored) : buildReport(deps, tenantId, period, 'draft');
}

/** A month that has not begun has no report, for anyone: 404 report.notFound. */
function assertBegun(deps: CoreDeps, period: string) {
  if (period > periodOf(deps.clock.now())) {
    throw new NotFoundError('report.notFound', `there is no report for ${period}: the month has not begun`);
  }
}

/**
 * Whether a tenant was there in `period`: it has reports from the month it was created in, and a deleted one up to
 * the month it was deleted in.
 */
export const existedIn = (tenant: { createdAt: string; deletedAt?: string }, period: string) =>
  periodOf(new Date(tenant.createdAt)) <= period &&
  (tenant.deletedAt === undefined || period <= periodOf(new Date(tenant.deletedAt)));

/**
 * One tenant's report for a month: 404 for a tenant that does not exist, and report.notFound for a month before the
 * one it was created in or one that has not begun (no report ever comes for either).
 */
export async function getReport(deps: CoreDeps, tenantId: string, period: string): Promise<BillingReport> {
  const tenant = await getTenantRecord(deps, tenantId);
  assertBegun(deps, period);
  if (!existedIn(tenant, period)) {
    const created = periodOf(new Date(tenant.createdAt));
    throw new NotFoundError(
      'report.notFound',
      `tenant "${tenantId}" was created in ${created}; it has no report for ${period}`,
    );
  }
  return storedOrDraft(deps, tenantId, period);
}

/** Tenants whose reports are read (or drafted) at once for the admin's list. */
const REPORTS_IN_FLIGHT = 8;

/** The reports for `period` of those of `tenants` there in it, in their order; `built` ones are not read again. */
function reportsOf(
  deps: CoreDeps,
  tenants: BilledTenant[],
  period: string,
  built = new Map<string, BillingReport>(),
): Promise<BillingReport[]> {
  const there = tenants.filter((tenant) => existedIn(tenant, period));
  return mapWithLimit(
    there,
    REPORTS_IN_FLIGHT,
    async (tenant) => built.get(tenant.id) ?? storedOrDraft(deps, tenant.id, period),
  );
}

/**
 * One page of the reports for a month of every tenant there in it (admin), in tenant order and then those since
 * deleted, whose usage is billed all the same; report.notFound for a month that has not begun. Paged like every list
 * (a page may hold fewer than `limit`): a draft is built from a month of hourly usage rows, so all tenants at once
 * would outgrow a Lambda's response and API Gateway's time.
 * A report has a line per app, so a page also ends at the last report within PAGE_JSON_BYTES; the store, which alone
 * makes cursors, then reads the page again up to that report's tenant for the cursor after it.
 */
export async function listReports(
  deps: CoreDeps,
  period: string,
  page: PageRequest,
): Promise<Page<BillingReport>> {
  assertBegun(deps, period);
  const tenants = await deps.store.listBilledTenants(page);
  const reports = await reportsOf(deps, tenants.items, period);
  const shown = countWithinPageBytes(reports);
  const lastShown = reports[shown - 1];
  if (shown === reports.length || !lastShown) return { items: reports, nextCursor: tenants.nextCursor };
  const upTo = tenants.items.findIndex((tenant) => tenant.id === lastShown.tenant) + 1;
  const cut = await deps.store.listBilledTenants({ limit: upTo, cursor: page.cursor });
  // The same tenants, unless one came or went meanwhile: the page is then what the cursor goes on from.
  const built = new Map(reports.map((report) => [report.tenant, report]));
  return { items: await reportsOf(deps, cut.items, period, built), nextCursor: cut.nextCursor };
}

/** The cost of usage rows already summed into one bucket, for the usage API. */
export function usageCost(prices: PriceTable, records: UsageRecord[]): string {
  return dollars(costMicroUsd(billedTotals(records, prices), prices));
}
