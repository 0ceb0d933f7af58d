import type { BillingReport, PriceTable } from '../../../schemas/billing.ts';
import type { LifetimeRecord, MeterStore, UsageRecord } from '../../core/ports.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';
import { conditionally, guarded } from './errors.ts';
import { absent, allOf, anyOf, type Condition, equals, exists, lessThan } from './expressions.ts';
import { key, PARTITION, PREFIX, usageAmounts } from './items.ts';
import { SingleTable } from './single-table.ts';

/** Closed lifetimes are remembered this long: far past any late sighting of their replica. */
const CLOSED_RETENTION_SECONDS = 35 * 24 * 3600;

function toLifetime(item: Record<string, unknown>): LifetimeRecord {
  return {
    tenantId: String(item.tenantId),
    instanceId: String(item.instanceId),
    app: String(item.app),
    cpu: Number(item.cpu),
    memoryMiB: Number(item.memoryMiB),
    startedSec: Number(item.startedSec),
    stoppedSec: item.stoppedSec === undefined ? null : Number(item.stoppedSec),
    meteredSec: Number(item.meteredSec),
  };
}

/**
 * The meter's state on the single table: open lifetimes (one item per running or not yet fully metered replica),
 * tombstones of closed ones, and billing reports. Each accrual is one transaction conditioned on the watermark it
 * read, so duplicated, late or concurrent meters never count a second twice.
 */
export class DynamoMeterStore implements MeterStore {
  private readonly table: SingleTable;

  constructor(dynamodb: DynamoDbHttp, tableName: string) {
    this.table = new SingleTable(dynamodb, tableName);
  }

  async observeLifetime(lifetime: LifetimeRecord): Promise<void> {
    const lifetimeKey = key.lifetime(lifetime.tenantId, lifetime.instanceId);
    const { stoppedSec, ...rest } = lifetime;
    const { cancelled } = await this.table.transact([
      this.table.putItem(
        { ...lifetimeKey, ...rest, ...(stoppedSec !== null ? { stoppedSec } : {}) },
        absent(),
      ),
      this.table.checkItem(key.closedLifetime(lifetime.tenantId, lifetime.instanceId), absent()),
    ]);
    if (!cancelled || stoppedSec === null || cancelled[0] !== 'ConditionalCheckFailed') return;
    // Known already: record the stop, once.
    await conditionally(() =>
      this.table.update(lifetimeKey, { set: { stoppedSec } }, allOf(exists(), absent('stoppedSec'))),
    );
  }

  listOpenLifetimes(tenantId: string): Promise<LifetimeRecord[]> {
    return guarded(async () => {
      const items = await this.table.all({ partition: PARTITION.tenant(tenantId), prefix: PREFIX.lifetime });
      return items.map(toLifetime);
    });
  }

  async accrueLifetime(
    lifetime: LifetimeRecord,
    toSec: number,
    usage: UsageRecord[],
    close: boolean,
  ): Promise<boolean> {
    const lifetimeKey = key.lifetime(lifetime.tenantId, lifetime.instanceId);
    const unchanged: Condition = allOf(
      equals('meteredSec', lifetime.meteredSec),
      lifetime.stoppedSec === null ? absent('stoppedSec') : equals('stoppedSec', lifetime.stoppedSec),
    );
    const watermark = close
      ? this.table.deleteItem(lifetimeKey, unchanged)
      : this.table.updateItem(lifetimeKey, { set: { meteredSec: toSec } }, unchanged);
    const tombstone = close
      ? [
          this.table.putItem({
            ...key.closedLifetime(lifetime.tenantId, lifetime.instanceId),
            closedSec: toSec,
            expiresAt: toSec + CLOSED_RETENTION_SECONDS,
          }),
        ]
      : [];
    const rows = usage.map((u) =>
      this.table.updateItem(key.usage(u), {
        set: { tenantId: u.tenantId, hour: u.hour, app: u.app },
        add: usageAmounts(u),
      }),
    );
    const { cancelled } = await this.table.transact([watermark, ...tombstone, ...rows]);
    return cancelled === undefined;
  }

  async putReport(report: BillingReport): Promise<void> {
    await guarded(() => this.table.put({ ...key.billingReport(report.tenant, report.period), body: report }));
  }

  getReport(tenantId: string, period: string): Promise<BillingReport | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.billingReport(tenantId, period));
      return item?.body as BillingReport | undefined;
    });
  }

  async reportsFinalThrough(): Promise<string | undefined> {
    return guarded(async () => (await this.table.get(key.reportsFinal()))?.period as string | undefined);
  }

  async markReportsFinalThrough(period: string): Promise<void> {
    // A run that found an earlier month final, finishing after one that found a later one, moves nothing.
    await conditionally(() =>
      this.table.put({ ...key.reportsFinal(), period }, anyOf(absent(), lessThan('period', period))),
    );
  }

  async monthPrices(period: string, prices: PriceTable): Promise<PriceTable> {
    const monthKey = key.monthPrices(period);
    const kept = () =>
      guarded(async () => (await this.table.get(monthKey))?.prices as PriceTable | undefined);
    // Read first: every month's table is kept once, then only read.
    const first = await kept();
    if (first) return first;
    if (await conditionally(() => this.table.put({ ...monthKey, prices }, absent()))) return prices;
    // Another process kept one first.
    return (await kept()) ?? prices;
  }
}
