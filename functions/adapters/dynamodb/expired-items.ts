import { mapWithLimit } from '../../core/map-with-limit.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';
import { conditionally, guarded } from './errors.ts';
import { lessThan } from './expressions.ts';
import type { Key } from './items.ts';
import { SingleTable } from './single-table.ts';
import { TABLE_KEYS } from './table.ts';

/** Deletes in flight at once. */
const DELETES_IN_FLIGHT = 8;

type KeyAttributes = { pk: { S: string }; sk: { S: string } };

/**
 * The work of DynamoDB's Time to Live, for DynamoDB Local, which takes the table's TTL setting but never deletes an
 * item: the items whose `expiresAt` (seconds) has passed — idempotency records, app events after 30 days, leases,
 * an autoscaler's memory, metered replicas' tombstones — are deleted, each only if it is still expired then, so one
 * renewed meanwhile stays. In AWS mode DynamoDB does it itself, and no Lambda scans the table.
 */
export class ExpiredItems {
  private readonly table: SingleTable;

  constructor(
    private readonly dynamodb: DynamoDbHttp,
    private readonly tableName: string,
  ) {
    this.table = new SingleTable(dynamodb, tableName);
  }

  /** Deletes the items expired at `now`; returns how many it deleted. */
  delete(now: Date): Promise<number> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const expired = lessThan(TABLE_KEYS.timeToLiveAttribute, nowSeconds);
    return guarded(async () => {
      let deleted = 0;
      for await (const keys of this.expiredKeys(nowSeconds)) {
        const done = await mapWithLimit(keys, DELETES_IN_FLIGHT, (key) =>
          conditionally(() => this.table.delete(key, expired)),
        );
        deleted += done.filter(Boolean).length;
      }
      return deleted;
    });
  }

  /** The keys of the items expired at `nowSeconds`, a page of the table's scan at a time. */
  private async *expiredKeys(nowSeconds: number): AsyncGenerator<Key[]> {
    let start: KeyAttributes | undefined;
    do {
      const page = await this.dynamodb.call<{ Items?: KeyAttributes[]; LastEvaluatedKey?: KeyAttributes }>(
        'Scan',
        {
          TableName: this.tableName,
          FilterExpression: '#expiresAt < :now',
          ProjectionExpression: '#pk, #sk',
          ExpressionAttributeNames: {
            '#expiresAt': TABLE_KEYS.timeToLiveAttribute,
            '#pk': TABLE_KEYS.partitionKey,
            '#sk': TABLE_KEYS.sortKey,
          },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        },
      );
      yield (page.Items ?? []).map((item) => ({ pk: item.pk.S, sk: item.sk.S }));
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
