import type { PriceTable } from '../../schemas/billing.ts';
import {
  MAX_USAGE_RANGE_DAYS,
  type UsageQuery,
  type UsageReport,
  type UsageRow,
} from '../../schemas/usage.ts';
import { pricesOf, usageCost } from './billing.ts';
import { billsNothing } from './billing-math.ts';
import { codeUnitOrder } from './code-unit-order.ts';
import { TenantNotFoundError, ValidationError } from './errors.ts';
import { addUsageAmounts, emptyUsage } from './metering.ts';
import { cursorAfter, invalidCursor, keyIn } from './page-in-memory.ts';
import type { CoreDeps, UsageRecord } from './ports.ts';
import { allUsage } from './walk.ts';

/** The UTC hour `YYYY-MM-DDTHH` an instant falls in. */
export const hourOf = (at: Date) => at.toISOString().slice(0, 13);

const startOfMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));

const HOUR_MS = 3_600_000;

/** A usage row being summed: its bucket (`YYYY-MM-DD`, or `YYYY-MM-DDTHH` by the hour) and the app's amounts. */
type RowSum = UsageRecord & { bucket: string };

/** How rows sort, and what a cursor holds: the bucket, then the app (buckets have one width, apps no spaces). */
const rowKey = (row: RowSum) => `${row.bucket} ${row.app}`;

/** The row key a usage cursor holds, checked against the granularity asked for; 400 for anything else. */
function rowKeyIn(cursor: string, bucketLength: number): string {
  const key = keyIn(cursor);
  const bucket = /^(\d{4}-\d{2}-\d{2}(?:T\d{2})?) [a-z][a-z0-9-]*$/.exec(key)?.[1];
  if (bucket?.length !== bucketLength) throw invalidCursor();
  return key;
}

/**
 * A page of a tenant's usage per app and hour or day between `from` (inclusive) and `to` (exclusive), widened to
 * whole UTC hours (usage is kept by the hour the seconds fell in), rows in order of their hour or day and then app —
 * of one app only, with `app`; a day's row spans only its hours within the range. Integers are summed first and
 * converted once, so totals are exact. The table is read a page at a time from the cursor's bucket on, and no further
 * than the page needs: a page reads at most its rows' hours and one bucket more, however long the range or many the
 * apps (with `app`, also the hours between its rows, which hold only other apps').
 */
export async function getUsage(deps: CoreDeps, tenantId: string, query: UsageQuery): Promise<UsageReport> {
  // A deleted tenant's usage stays, billed all the same: the admin reads it as a live tenant's.
  if (!(await deps.store.getBilledTenant(tenantId))) throw new TenantNotFoundError(tenantId);
  const now = deps.clock.now();
  const { from, to } = usageRange(query, now);
  const bucketLength = query.granularity === 'hour' ? 13 : 10;
  const after = query.cursor === undefined ? undefined : rowKeyIn(query.cursor, bucketLength);
  // A cursor's bucket is read again from its first hour: its rows past the cursor are still to come.
  const cursorHour = bucketLength === 13 ? after?.slice(0, 13) : after && `${after.slice(0, 10)}T00`;
  const firstHour = cursorHour && cursorHour > hourOf(from) ? cursorHour : hourOf(from);
  const lastHour = hourOf(new Date(to.getTime() - 1));
  const rows: RowSum[] = [];
  let bucket: string | undefined;
  let open = new Map<string, RowSum>();
  /** The price table of each month the rows fall in (a range may span months), as `pricesOf` gives it. */
  const monthPrices = new Map<string, PriceTable>();
  const pricesIn = async (row: RowSum) => {
    const period = row.bucket.slice(0, 7);
    const prices = monthPrices.get(period) ?? (await pricesOf(deps, period));
    monthPrices.set(period, prices);
    return prices;
  };
  /**
   * Ends the bucket being summed: its rows, by app, go to the page — but those up to the cursor, and those that bill
   * nothing (replicas that lived 0 s, without the minimum).
   */
  const close = async () => {
    // As the table and the cursor's key compare.
    const done = [...open.values()].sort((a, b) => codeUnitOrder(a.app, b.app));
    open = new Map();
    for (const row of done) {
      if ((after === undefined || rowKey(row) > after) && !billsNothing([row], await pricesIn(row)))
        rows.push(row);
    }
  };
  const records = firstHour <= lastHour ? allUsage(deps.store, tenantId, firstHour, lastHour) : [];
  for await (const record of records) {
    if (query.app !== undefined && record.app !== query.app) continue;
    const recordBucket = record.hour.slice(0, bucketLength);
    if (recordBucket !== bucket) {
      await close();
      // One row more than the page shows tells that there is a next page.
      if (rows.length > query.limit) break;
      bucket = recordBucket;
    }
    const sum = open.get(record.app) ?? emptyUsage({ ...record, bucket: recordBucket });
    addUsageAmounts(sum, record);
    open.set(record.app, sum);
  }
  await close();
  const shown = rows.slice(0, query.limit);
  const last = shown.at(-1);
  return {
    tenant: tenantId,
    from: from.toISOString(),
    to: to.toISOString(),
    granularity: query.granularity,
    rows: await Promise.all(
      shown.map(async (sum) => usageRow(sum, await pricesIn(sum), query.granularity, { from, to })),
    ),
    nextCursor: rows.length > query.limit && last ? cursorAfter(rowKey(last)) : null,
  };
}

/**
 * The span a usage query covers, its defaults filled in (from the start of the month, to now), checked as given or
 * defaulted — `?from=` in the future alone, or `?to=` before this month alone, is an empty span, not a report — then
 * widened to whole UTC hours, the finest span usage is kept by: the answer says what its rows cover.
 */
function usageRange(query: UsageQuery, now: Date): { from: Date; to: Date } {
  const from = query.from ? new Date(query.from) : startOfMonth(now);
  const to = query.to ? new Date(query.to) : now;
  const shown = (at: Date, given: string | undefined, byDefault: string) =>
    given ? at.toISOString() : `${at.toISOString()} (${byDefault}, by default)`;
  const refuse = (path: 'from' | 'to', message: string): never => {
    throw new ValidationError(message, [{ path, message }]);
  };
  const span = `from ${shown(from, query.from, 'the start of the month')} … to ${shown(to, query.to, 'now')}`;
  if (from >= to) refuse(query.from ? 'from' : 'to', `from must be before to: ${span}`);
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * 24 * HOUR_MS) {
    refuse(query.to ? 'to' : 'from', `from..to may span at most ${MAX_USAGE_RANGE_DAYS} days: ${span}`);
  }
  return {
    from: new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS),
    to: new Date(Math.ceil(to.getTime() / HOUR_MS) * HOUR_MS),
  };
}

/** What a summed row shows: the span of its bucket within the range, the app's amounts, and their cost. */
function usageRow(
  sum: RowSum,
  prices: PriceTable,
  granularity: UsageQuery['granularity'],
  range: { from: Date; to: Date },
): UsageRow {
  const start = Date.parse(
    granularity === 'hour' ? `${sum.bucket}:00:00.000Z` : `${sum.bucket}T00:00:00.000Z`,
  );
  const end = start + (granularity === 'hour' ? HOUR_MS : 24 * HOUR_MS);
  return {
    start: new Date(Math.max(start, range.from.getTime())).toISOString(),
    end: new Date(Math.min(end, range.to.getTime())).toISOString(),
    app: sum.app,
    vcpuSeconds: sum.vcpuMilliSeconds / 1000,
    memoryGiBSeconds: sum.memoryMiBSeconds / 1024,
    instanceSeconds: sum.instanceSeconds,
    cost: usageCost(prices, [sum]),
  };
}
