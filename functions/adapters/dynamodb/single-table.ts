import { randomUUID } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { UnavailableError } from '../../core/errors.ts';
import { countWithinPageBytes } from '../../core/page-bytes.ts';
import { invalidCursor } from '../../core/page-in-memory.ts';
import { sameValue } from '../../core/same-value.ts';
import type { DynamoDbError, DynamoDbHttp } from './dynamodb-http.ts';
import { cancellationCodes, translateStoreError } from './errors.ts';
import {
  type Changes,
  type Condition,
  conditionExpression,
  Expression,
  updateExpression,
} from './expressions.ts';
import type { Key } from './items.ts';

export type Item = Key & Record<string, unknown>;
/** One write of a transaction, as TransactWriteItems takes it: `Put`, `Update`, `Delete` or `ConditionCheck`. */
export type TransactItem = Record<string, Record<string, unknown>>;
/** DynamoDB's own form of an item: each attribute's value under its type (`{ S: "…" }`, `{ N: "1" }`, …). */
type AttributeMap = Parameters<typeof unmarshall>[0];
type Request = Record<string, unknown>;

/** Items of one partition, in sort-key order: all of it, those whose sort key starts with `prefix`, or a range. */
export interface Query {
  partition: string;
  /**
   * The table's own keys, read strongly consistent as every GetItem here is, or the `gsi1` index (eventually
   * consistent, the only way DynamoDB reads an index): a list read just after a write holds it, so a job that removes
   * what it does not find (the sweep) and a pass that an API write asked for see that write.
   */
  index?: 'gsi1';
  prefix?: string;
  between?: [string, string];
  newestFirst?: boolean;
}

const KEY_ATTRIBUTES = { table: ['pk', 'sk'], gsi1: ['gsi1pk', 'gsi1sk', 'pk', 'sk'] } as const;
const BATCH_WRITE_SIZE = 25;
const BATCH_WRITE_ATTEMPTS = 6;
const TRANSACTION_CONFLICT_RETRIES = 6;

/**
 * A plain value in DynamoDB's form; a record's fields left undefined are simply not stored. Every object here is a
 * plain record, which util-dynamodb knows by its constructor: one with a key `constructor` of its own (an app's env
 * var named so) it would take for a class instance, and refuse, without `convertClassInstanceToMap`.
 */
const toAttributes = (value: object) =>
  marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: true });
const fromAttributes = (item: unknown) => unmarshall(item as AttributeMap);
const fromEach = (items: unknown) => ((items as AttributeMap[] | undefined) ?? []).map(fromAttributes);

/**
 * How a conditional write tried again after its answer was lost (DynamoDbHttp.call's `ownWrite`) knows its own trace:
 * it fails its condition on the item it wrote, which DynamoDB answers (ReturnValuesOnConditionCheckFailure), and that
 * item holds `written` — the `whole` of it for a put, its `attributes` for an update that only sets them. Such a write
 * is the call's success, not a conflict. One that adds to a number cannot tell its trace from another's, nor a delete.
 */
const ownWriteFound =
  (written: Record<string, unknown>, holds: 'whole' | 'attributes') =>
  (refusal: DynamoDbError): boolean => {
    if (refusal.name !== 'ConditionalCheckFailedException' || !refusal.Item) return false;
    const found = fromAttributes(refusal.Item);
    if (holds === 'whole') return sameValue(found, written);
    return Object.entries(written).every(([name, value]) => sameValue(found[name], value));
  };

/**
 * The one table's requests: a key in, plain items out (marshalled here, as the SDK's document client would). Items
 * carry their record's fields beside `pk`/`sk` (items.ts names the keys). Conditions and updates come as values
 * (expressions.ts), so every request is assembled the same way, alone or in a transaction.
 */
export class SingleTable {
  constructor(
    private readonly dynamodb: DynamoDbHttp,
    private readonly name: string,
  ) {}

  /** A strongly consistent read of one item. */
  async get(key: Key): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.dynamodb.call('GetItem', {
      TableName: this.name,
      Key: toAttributes(key),
      ConsistentRead: true,
    });
    return Item ? fromAttributes(Item) : undefined;
  }

  /** Writes `item` where `condition` holds (see ownWriteFound for a try again after a lost answer). */
  put(item: Item, condition?: Condition) {
    const request = this.putRequest(item, condition);
    if (!condition) return this.dynamodb.call('PutItem', request);
    return this.ownedWrite('PutItem', request, fromAttributes(request.Item), 'whole');
  }

  /**
   * Applies `changes`, creating the item unless `condition` says it must exist; returns the attributes it changed,
   * as they are after the change (none when a try before had made them: see ownWriteFound, for changes that only
   * set attributes).
   */
  async update(key: Key, changes: Changes, condition?: Condition): Promise<Record<string, unknown>> {
    const request = { ...this.updateRequest(key, changes, condition), ReturnValues: 'UPDATED_NEW' };
    const setsOnly = condition && changes.set && !changes.add && !changes.takeFromSet;
    const { Attributes } = setsOnly
      ? await this.ownedWrite('UpdateItem', request, changes.set ?? {}, 'attributes')
      : await this.dynamodb.call('UpdateItem', request);
    return Attributes ? fromAttributes(Attributes) : {};
  }

  /** A conditional write that asks DynamoDB for the item a failed condition finds, to know its own there. */
  private ownedWrite(
    operation: string,
    request: Request,
    written: Record<string, unknown>,
    holds: 'whole' | 'attributes',
  ) {
    return this.dynamodb.call(
      operation,
      { ...request, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
      ownWriteFound(written, holds),
    );
  }

  delete(key: Key, condition?: Condition) {
    return this.dynamodb.call('DeleteItem', this.deleteRequest(key, condition));
  }

  putItem(item: Item, condition?: Condition): TransactItem {
    return { Put: this.putRequest(item, condition) };
  }

  updateItem(key: Key, changes: Changes, condition?: Condition): TransactItem {
    return { Update: this.updateRequest(key, changes, condition) };
  }

  deleteItem(key: Key, condition?: Condition): TransactItem {
    return { Delete: this.deleteRequest(key, condition) };
  }

  /**
   * Runs a transaction, retrying DynamoDB's transaction conflicts (another transaction on the same items). A failed
   * condition comes back as the cancellation codes, one per item; anything else becomes a domain error.
   */
  async transact(items: TransactItem[]): Promise<{ cancelled: string[] | undefined }> {
    for (let attempt = 1; ; attempt++) {
      try {
        // A token per transaction, the same on each of the client's retries: a transaction that went through
        // although its answer was lost succeeds again rather than fail on its own writes' conditions.
        await this.dynamodb.call('TransactWriteItems', {
          TransactItems: items,
          ClientRequestToken: randomUUID(),
        });
        return { cancelled: undefined };
      } catch (err) {
        const codes = cancellationCodes(err);
        if (!codes) return translateStoreError(err);
        if (codes.includes('TransactionConflict') && attempt < TRANSACTION_CONFLICT_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
          continue;
        }
        if (codes.includes('ConditionalCheckFailed')) return { cancelled: codes };
        return translateStoreError(err);
      }
    }
  }

  /** A transaction item that writes nothing and cancels the transaction unless `condition` holds. */
  checkItem(key: Key, condition: Condition): TransactItem {
    return {
      ConditionCheck: this.request((x) => ({ Key: toAttributes(key), ConditionExpression: condition(x) })),
    };
  }

  /**
   * One page of a query, and the cursor of the next page: null exactly when there is none. One item more than the
   * page is read to tell; DynamoDB's own start key comes back with a page that merely filled up. A page ends early
   * rather than hold more than PAGE_JSON_BYTES (core/page-bytes.ts).
   */
  async page(
    query: Query,
    { limit, cursor }: { limit: number; cursor?: string | null },
  ): Promise<{ items: Record<string, unknown>[]; cursor: string | null }> {
    const res = await this.dynamodb.call('Query', {
      ...this.queryRequest(query),
      Limit: limit + 1,
      ...(cursor ? { ExclusiveStartKey: toAttributes(this.startKey(query, cursor)) } : {}),
    });
    const read = fromEach(res.Items);
    const full = read.slice(0, limit);
    const items = full.slice(0, countWithinPageBytes(full));
    const last = items.at(-1);
    // More came back than the page holds: the next starts after this page's last item. All of it, yet with a start
    // key: DynamoDB stopped at its 1 MB a response, and the next page starts where it stopped.
    const next =
      last && read.length > items.length
        ? Object.fromEntries(KEY_ATTRIBUTES[query.index ?? 'table'].map((a) => [a, last[a]]))
        : res.LastEvaluatedKey && fromAttributes(res.LastEvaluatedKey);
    return { items, cursor: next ? Buffer.from(JSON.stringify(next)).toString('base64url') : null };
  }

  /** Every item of a query, page after page. */
  all(query: Query): Promise<Record<string, unknown>[]> {
    return this.everyPage(this.queryRequest(query));
  }

  /** The keys of every item a query finds, for deleting them. */
  async keys(query: Query): Promise<Key[]> {
    const items = await this.everyPage(this.queryRequest(query, true));
    return items.map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
  }

  private async everyPage(request: Request): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: unknown;
    do {
      const res = await this.dynamodb.call('Query', { ...request, ExclusiveStartKey: start });
      items.push(...fromEach(res.Items));
      start = res.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Deletes the items in batches, retrying what DynamoDB left unprocessed (throttling) with backoff. */
  async deleteAll(keys: Key[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH_WRITE_SIZE) {
      let requests: unknown[] = keys
        .slice(i, i + BATCH_WRITE_SIZE)
        .map((key) => ({ DeleteRequest: { Key: toAttributes(key) } }));
      for (let attempt = 1; ; attempt++) {
        const { UnprocessedItems } = await this.dynamodb.call<{
          UnprocessedItems?: Record<string, unknown[]>;
        }>('BatchWriteItem', { RequestItems: { [this.name]: requests } });
        const left = UnprocessedItems?.[this.name];
        if (!left?.length) break;
        if (attempt === BATCH_WRITE_ATTEMPTS) {
          throw new UnavailableError('the database is throttling deletes; retry shortly');
        }
        await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 10 * (1 + Math.random())));
        requests = left;
      }
    }
  }

  /**
   * A request on this table: `render` writes its fields, their expressions through one Expression, whose
   * placeholders then go with them.
   */
  private request(render: (x: Expression) => Request): Request {
    const x = new Expression();
    const fields = render(x);
    const { ExpressionAttributeNames, ExpressionAttributeValues } = x.attributes();
    return {
      TableName: this.name,
      ...fields,
      ...(ExpressionAttributeNames ? { ExpressionAttributeNames } : {}),
      ...(ExpressionAttributeValues
        ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) }
        : {}),
    };
  }

  private putRequest(item: Item, condition?: Condition) {
    return this.request((x) => ({ Item: toAttributes(item), ...conditionExpression(condition, x) }));
  }

  private updateRequest(key: Key, changes: Changes, condition?: Condition) {
    return this.request((x) => ({
      Key: toAttributes(key),
      UpdateExpression: updateExpression(changes, x),
      ...conditionExpression(condition, x),
    }));
  }

  private deleteRequest(key: Key, condition?: Condition) {
    return this.request((x) => ({ Key: toAttributes(key), ...conditionExpression(condition, x) }));
  }

  private queryRequest(query: Query, keysOnly = false): Request {
    const [partitionKey, sortKey] = KEY_ATTRIBUTES[query.index ?? 'table'];
    return this.request((x) => {
      const sort = query.between
        ? ` AND ${x.name(sortKey)} BETWEEN ${x.value(query.between[0])} AND ${x.value(query.between[1])}`
        : query.prefix
          ? ` AND begins_with(${x.name(sortKey)}, ${x.value(query.prefix)})`
          : '';
      return {
        ...(query.index ? { IndexName: query.index } : {}),
        KeyConditionExpression: `${x.name(partitionKey)} = ${x.value(query.partition)}${sort}`,
        ...(keysOnly ? { ProjectionExpression: `${x.name('pk')}, ${x.name('sk')}` } : {}),
        ...(query.newestFirst ? { ScanIndexForward: false } : {}),
        ...(query.index ? {} : { ConsistentRead: true }),
      };
    });
  }

  /**
   * The start key a cursor holds, accepted only when it lies in the queried partition and prefix or range: a cursor
   * is the client's to send back, so one forged to start in another tenant's partition is refused, never run.
   */
  private startKey(query: Query, cursor: string): Record<string, string> {
    const attributes = KEY_ATTRIBUTES[query.index ?? 'table'];
    let key: unknown;
    try {
      key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor();
    }
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalidCursor();
    const fields = key as Record<string, unknown>;
    const valid =
      Object.keys(fields).length === attributes.length &&
      attributes.every((a) => typeof fields[a] === 'string');
    if (!valid) throw invalidCursor();
    const start = fields as Record<string, string>;
    const [partitionKey, sortKey] = attributes;
    const sort = start[sortKey] ?? '';
    const inRange = query.between
      ? sort >= query.between[0] && sort <= query.between[1]
      : sort.startsWith(query.prefix ?? '');
    if (start[partitionKey] !== query.partition || !inRange) throw invalidCursor();
    return start;
  }
}
