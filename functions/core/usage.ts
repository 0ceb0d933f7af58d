import type { UsageQuery, UsageReport, UsageRow } from '../../schemas/usage.ts';
import { usageCost } from './billing.ts';
import { addUsageAmounts, emptyUsage } from './metering.ts';
import type { CoreDeps, UsageRecord } from './ports.ts';
import { getTenantRecord } from './tenants.ts';

/** The UTC hour `YYYY-MM-DDTHH` an instant falls in. */
export const hourOf = (at: Date) => at.toISOString().slice(0, 13);

const startOfMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));

/**
 * A tenant's usage per app and hour or day between `from` (inclusive) and `to` (exclusive), by the UTC hours
 * the seconds fell in. Integers are summed first and converted once, so totals are exact.
 */
export async function getUsage(deps: CoreDeps, tenantId: string, query: UsageQuery): Promise<UsageReport> {
  await getTenantRecord(deps, tenantId);
  const now = deps.clock.now();
  const from = query.from ? new Date(query.from) : startOfMonth(now);
  const to = query.to ? new Date(query.to) : now;
  const records = await deps.store.listUsage(tenantId, hourOf(from), hourOf(new Date(to.getTime() - 1)));
  const bucketLength = query.granularity === 'hour' ? 13 : 10;
  const buckets = new Map<string, UsageRecord & { bucket: string }>();
  for (const record of records) {
    const hourStart = Date.parse(`${record.hour}:00:00.000Z`);
    if (hourStart < Date.parse(`${hourOf(from)}:00:00.000Z`) || hourStart >= to.getTime()) continue;
    const bucket = record.hour.slice(0, bucketLength);
    const id = `${bucket}/${record.app}`;
    const sum = buckets.get(id) ?? emptyUsage({ ...record, bucket });
    addUsageAmounts(sum, record);
    buckets.set(id, sum);
  }
  const rows: UsageRow[] = [...buckets.values()]
    .sort((a, b) => (a.bucket === b.bucket ? a.app.localeCompare(b.app) : a.bucket < b.bucket ? -1 : 1))
    .map((sum) => {
      const start = new Date(
        query.granularity === 'hour' ? `${sum.bucket}:00:00.000Z` : `${sum.bucket}T00:00:00.000Z`,
      );
      const end = new Date(start.getTime() + (query.granularity === 'hour' ? 3_600_000 : 86_400_000));
      return {
        start: start.toISOString(),
        end: end.toISOString(),
        app: sum.app,
        vcpuSeconds: sum.vcpuMilliSeconds / 1000,
        memoryGiBSeconds: sum.memoryMiBSeconds / 1024,
        instanceSeconds: sum.instanceSeconds,
        cost: usageCost(deps, [sum]),
      };
    });
  return {
    tenant: tenantId,
    from: from.toISOString(),
    to: to.toISOString(),
    granularity: query.granularity,
    rows,
  };
}
