import { afterEach, describe, expect, it } from 'vitest';
import { absent } from '../../../functions/adapters/dynamodb/expressions.ts';
import { SingleTable } from '../../../functions/adapters/dynamodb/single-table.ts';
import { dynamoDbStandIn } from '../../support/dynamodb-stand-in.ts';

// DynamoDB Local never throttles, so what DynamoDB leaves unprocessed under load is played by a stand-in.
const keys = Array.from({ length: 30 }, (_, i) => ({ pk: 'p', sk: `s${i}` }));
const deleteOf = (key: { pk: string; sk: string }) => ({
  DeleteRequest: { Key: { pk: { S: key.pk }, sk: { S: key.sk } } },
});
const unprocessed = (...left: { pk: string; sk: string }[]) => ({
  status: 200,
  body: { UnprocessedItems: left.length ? { berth: left.map(deleteOf) } : {} },
});

describe('SingleTable.deleteAll', () => {
  let standIn: Awaited<ReturnType<typeof dynamoDbStandIn>> | undefined;
  afterEach(() => standIn?.close());

  it('deletes in batches of 25 and sends again what DynamoDB left unprocessed', async () => {
    standIn = await dynamoDbStandIn([unprocessed({ pk: 'p', sk: 's3' }), unprocessed()]);
    await new SingleTable(standIn.client(), 'berth').deleteAll(keys);
    const sent = standIn.received.map((r) => JSON.parse(r.body).RequestItems.berth);
    expect(sent).toEqual([
      keys.slice(0, 25).map(deleteOf),
      [deleteOf({ pk: 'p', sk: 's3' })],
      keys.slice(25).map(deleteOf),
    ]);
    expect(standIn.received.map((r) => r.headers['x-amz-target'])).toEqual(
      Array(3).fill('DynamoDB_20120810.BatchWriteItem'),
    );
  });

  it('gives up with 503 unavailable when DynamoDB keeps leaving items unprocessed', async () => {
    standIn = await dynamoDbStandIn([unprocessed({ pk: 'p', sk: 's0' })]);
    const done = new SingleTable(standIn.client(), 'berth').deleteAll(keys.slice(0, 1));
    await expect(done).rejects.toMatchObject({ code: 'unavailable' });
    expect(standIn.received).toHaveLength(6);
  });
});

describe('SingleTable.transact', () => {
  let standIn: Awaited<ReturnType<typeof dynamoDbStandIn>> | undefined;
  afterEach(() => standIn?.close());

  it('sends one token across the retries of one transaction, and another with the next', async () => {
    standIn = await dynamoDbStandIn(['drop', { status: 200, body: {} }]);
    const table = new SingleTable(standIn.client(), 'berth');
    const write = table.putItem({ pk: 'p', sk: 's' }, absent());
    await table.transact([write]);
    await table.transact([write]);
    const tokens = standIn.received.map((r) => JSON.parse(r.body).ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  /** DynamoDB's answer to a transaction it cancelled, with a reason per item. */
  const cancelled = (...codes: string[]) => ({
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
      CancellationReasons: codes.map((Code) => ({ Code })),
    },
  });

  it("tries a transaction again, as a new one, while another transaction's conflict cancels it, then answers 503", async () => {
    standIn = await dynamoDbStandIn([
      cancelled('None', 'TransactionConflict'),
      cancelled('TransactionConflict', 'None'),
      { status: 200, body: {} },
    ]);
    const table = new SingleTable(standIn.client(), 'berth');
    const writes = [table.putItem({ pk: 'p', sk: 'a' }), table.putItem({ pk: 'p', sk: 'b' })];
    expect(await table.transact(writes)).toEqual({ cancelled: undefined });
    const tokens = standIn.received.map((r) => JSON.parse(r.body).ClientRequestToken);
    expect(new Set(tokens).size).toBe(3);
    standIn.close();
    standIn = await dynamoDbStandIn([cancelled('TransactionConflict')]);
    const conflicted = new SingleTable(standIn.client(), 'berth').transact(writes.slice(0, 1));
    await expect(conflicted).rejects.toMatchObject({ code: 'unavailable' });
    expect(standIn.received).toHaveLength(6);
  });

  it('answers the codes of a transaction a condition cancelled, and 503 at once for one DynamoDB throttled', async () => {
    standIn = await dynamoDbStandIn([
      cancelled('None', 'ConditionalCheckFailed'),
      cancelled('ThrottlingError', 'None'),
    ]);
    const table = new SingleTable(standIn.client(), 'berth');
    const writes = [table.putItem({ pk: 'p', sk: 'a' }), table.putItem({ pk: 'p', sk: 'b' }, absent())];
    expect(await table.transact(writes)).toEqual({ cancelled: ['None', 'ConditionalCheckFailed'] });
    await expect(table.transact(writes)).rejects.toMatchObject({ code: 'unavailable' });
    expect(standIn.received).toHaveLength(2);
  });

  it('answers the error of a transaction DynamoDB refused whole, which carries no codes, as it came', async () => {
    const message = 'Item size has exceeded the maximum allowed size';
    standIn = await dynamoDbStandIn([
      { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message } },
    ]);
    const table = new SingleTable(standIn.client(), 'berth');
    const refused = table.transact([table.putItem({ pk: 'p', sk: 'a' })]);
    await expect(refused).rejects.toMatchObject({ name: 'ValidationException', message });
    expect(standIn.received).toHaveLength(1);
  });
});

describe('SingleTable reads', () => {
  let standIn: Awaited<ReturnType<typeof dynamoDbStandIn>> | undefined;
  afterEach(() => standIn?.close());

  it("reads the table's own keys strongly consistent, and the index as DynamoDB only can, eventually", async () => {
    standIn = await dynamoDbStandIn([{ status: 200, body: { Items: [] } }]);
    const table = new SingleTable(standIn.client(), 'berth');
    await table.page({ partition: 'tenant#acme', prefix: 'app#' }, { limit: 10 });
    await table.all({ partition: 'tenant#acme', prefix: 'lifetime#' });
    await table.keys({ partition: 'app#acme#uid' });
    await table.page({ partition: 'tenants', index: 'gsi1' }, { limit: 10 });
    const sent = standIn.received.map((r) => JSON.parse(r.body) as { ConsistentRead?: boolean });
    expect(sent.map((query) => query.ConsistentRead)).toEqual([true, true, true, undefined]);
  });

  it('reads every page of a query, each from where the one before stopped (DynamoDB stops a page at 1 MB)', async () => {
    const item = (sk: string) => ({ pk: { S: 'app#acme#uid' }, sk: { S: sk } });
    standIn = await dynamoDbStandIn([
      { status: 200, body: { Items: [item('deployment#1')], LastEvaluatedKey: item('deployment#1') } },
      { status: 200, body: { Items: [item('deployment#2')] } },
    ]);
    const keys = await new SingleTable(standIn.client(), 'berth').keys({ partition: 'app#acme#uid' });
    expect(keys).toEqual([
      { pk: 'app#acme#uid', sk: 'deployment#1' },
      { pk: 'app#acme#uid', sk: 'deployment#2' },
    ]);
    const sent = standIn.received.map((r) => JSON.parse(r.body) as { ExclusiveStartKey?: unknown });
    expect(sent.map((query) => query.ExclusiveStartKey)).toEqual([undefined, item('deployment#1')]);
  });
});
