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
});
