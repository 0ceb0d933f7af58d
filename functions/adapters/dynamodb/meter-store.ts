import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BillingReport } from '../../../schemas/billing.ts';
import type { LifetimeRecord, MeterStore, UsageRecord } from '../../core/ports.ts';
import { type Entities, entitiesOf, usageAmounts, usageKey } from './entities.ts';
import { guarded, isConditionFailure } from './errors.ts';
import { put, remove, transact, update } from './transactions.ts';

/** Closed lifetimes are remembered this long: far past any late sighting of their replica. */
const CLOSED_RETENTION_SECONDS = 35 * 24 * 3600;

function toLifetime(item: Omit<LifetimeRecord, 'stoppedSec'> & { stoppedSec?: number }): LifetimeRecord {
  return {
    tenantId: item.tenantId,
    instanceId: item.instanceId,
    app: item.app,
    cpu: item.cpu,
    memoryMiB: item.memoryMiB,
    startedSec: item.startedSec,
    stoppedSec: item.stoppedSec ?? null,
    meteredSec: item.meteredSec,
  };
}

/**
 * The meter's state on the single table: open lifetimes (one item per running or not yet fully metered replica),
 * tombstones of closed ones, and billing reports. Each accrual is one transaction conditioned on the watermark it
 * read, so duplicated, late or concurrent meters never count a second twice.
 */
export class DynamoMeterStore implements MeterStore {
  private readonly e: Entities;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tableName: string,
  ) {
    this.e = entitiesOf(client, tableName);
  }

  async observeLifetime(lifetime: LifetimeRecord): Promise<void> {
    const key = { tenantId: lifetime.tenantId, instanceId: lifetime.instanceId };
    const { stoppedSec, ...rest } = lifetime;
    const { cancelled } = await transact(this.client, [
      put(this.e.lifetime.create({ ...rest, ...(stoppedSec !== null ? { stoppedSec } : {}) }).params()),
      {
        ConditionCheck: {
          ...(this.e.closedLifetime.get(key).params() as { Key: Record<string, string>; TableName: string }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]);
    if (!cancelled || stoppedSec === null || cancelled[0] !== 'ConditionalCheckFailed') return;
    // Known already: record the stop, once.
    await guarded(async () => {
      try {
        await this.e.lifetime
          .patch(key)
          .set({ stoppedSec })
          .where((a, op) => op.notExists(a.stoppedSec))
          .go();
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    });
  }

  listOpenLifetimes(tenantId: string): Promise<LifetimeRecord[]> {
    return guarded(async () => {
      const res = await this.e.lifetime.query.primary({ tenantId }).go({ pages: 'all', consistent: true });
      return res.data.map(toLifetime);
    });
  }

  async accrueLifetime(
    lifetime: LifetimeRecord,
    toSec: number,
    usage: UsageRecord[],
    close: boolean,
  ): Promise<boolean> {
    const key = { tenantId: lifetime.tenantId, instanceId: lifetime.instanceId };
    const unchanged = (
      a: { meteredSec: unknown; stoppedSec: unknown },
      op: {
        eq: (attr: never, value: number) => string;
        notExists: (attr: never) => string;
      },
    ) =>
      `${op.eq(a.meteredSec as never, lifetime.meteredSec)} AND ${
        lifetime.stoppedSec === null
          ? op.notExists(a.stoppedSec as never)
          : op.eq(a.stoppedSec as never, lifetime.stoppedSec)
      }`;
    const watermark = close
      ? remove(this.e.lifetime.delete(key).where(unchanged).params())
      : update(this.e.lifetime.patch(key).set({ meteredSec: toSec }).where(unchanged).params());
    const tombstone = close
      ? [
          put(
            this.e.closedLifetime
              .put({ ...key, closedSec: toSec, expiresAt: toSec + CLOSED_RETENTION_SECONDS })
              .params(),
          ),
        ]
      : [];
    const rows = usage.map((u) => update(this.e.usage.update(usageKey(u)).add(usageAmounts(u)).params()));
    const { cancelled } = await transact(this.client, [watermark, ...tombstone, ...rows]);
    return cancelled === undefined;
  }

  async putReport(report: BillingReport): Promise<void> {
    await guarded(() =>
      this.e.billingReport.put({ tenantId: report.tenant, period: report.period, body: report }).go(),
    );
  }

  getReport(tenantId: string, period: string): Promise<BillingReport | undefined> {
    return guarded(async () => {
      const { data } = await this.e.billingReport.get({ tenantId, period }).go({ consistent: true });
      return (data?.body as BillingReport | undefined) ?? undefined;
    });
  }
}
