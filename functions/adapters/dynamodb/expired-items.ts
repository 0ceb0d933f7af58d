import { marshall } from '@aws-sdk/util-dynamodb';
import { mapWithLimit } from '../../core/map-with-limit.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';
import { conditionally, guarded } from './errors.ts';
import { type Condition, Expression, lessThan } from './expressions.ts';
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
    const expired = lessThan(TABLE_KEYS.timeToLiveAttribute, Math.floor(now.getTime() / 1000));
    return guarded(async () => {
      let deleted = 0;
      for await (const keys of this.keysWhere(expired)) {
        const done = await mapWithLimit(keys, DELETES_IN_FLIGHT, (key) =>
          conditionally(() => this.table.delete(key, expired)),
        );
        deleted += done.filter(Boolean).length;
      }
      return deleted;
    });
  }

  /** The keys of the table's items that `filter` keeps, a page of the table's scan at a time. */
  private async *keysWhere(filter: Condition): AsyncGenerator<Key[]> {
    const x = new Expression();
    const FilterExpression = filter(x);
    const ProjectionExpression = `${x.name(TABLE_KEYS.partitionKey)}, ${x.name(TABLE_KEYS.sortKey)}`;
    const { ExpressionAttributeNames, ExpressionAttributeValues = {} } = x.attributes();
    let start: KeyAttributes | undefined;
    do {
      const page = await this.dynamodb.call<{ Items?: KeyAttributes[]; LastEvaluatedKey?: KeyAttributes }>(
        'Scan',
        {
          TableName: this.tableName,
          FilterExpression,
          ProjectionExpression,
          ExpressionAttributeNames,
          ExpressionAttributeValues: marshall(ExpressionAttributeValues),
          ...(start ? { ExclusiveStartKey: start } : {}),
        },
      );
      yield (page.Items ?? []).map((item) => ({ pk: item.pk.S, sk: item.sk.S }));
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
