import { mapWithLimit } from '../../core/map-with-limit.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';
import { conditionally, guarded } from './errors.ts';
import { lessThan } from './expressions.ts';
import { SingleTable } from './single-table.ts';
import { TABLE_KEYS } from './table.ts';

/** Deletes in flight at once. */
const DELETES_IN_FLIGHT = 8;

/**
 * The work of DynamoDB's Time to Live, for DynamoDB Local, which takes the table's TTL setting but never deletes an
 * item: the items whose `expiresAt` (seconds) has passed — idempotency records, app events after 30 days, leases,
 * an autoscaler's memory, metered replicas' tombstones — are deleted, each only if it is still expired then, so one
 * renewed meanwhile stays. In AWS mode DynamoDB does it itself.
 */
export class ExpiredItems {
  private readonly table: SingleTable;

  constructor(dynamodb: DynamoDbHttp, tableName: string) {
    this.table = new SingleTable(dynamodb, tableName);
  }

  /** Deletes the items expired at `now`; returns how many it deleted. */
  delete(now: Date): Promise<number> {
    const expired = lessThan(TABLE_KEYS.timeToLiveAttribute, Math.floor(now.getTime() / 1000));
    return guarded(async () => {
      let deleted = 0;
      for await (const keys of this.table.scanKeys(expired)) {
        const done = await mapWithLimit(keys, DELETES_IN_FLIGHT, (key) =>
          conditionally(() => this.table.delete(key, expired)),
        );
        deleted += done.filter(Boolean).length;
      }
      return deleted;
    });
  }
}
