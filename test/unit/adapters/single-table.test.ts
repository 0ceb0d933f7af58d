import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SingleTable } from '../../../functions/adapters/dynamodb/single-table.ts';

// DynamoDB Local never throttles, so what DynamoDB leaves unprocessed under load is played by a mock.
const documents = mockClient(DynamoDBDocumentClient);
const keys = Array.from({ length: 30 }, (_, i) => ({ pk: 'p', sk: `s${i}` }));
const deleteOf = (key: { pk: string; sk: string }) => ({ DeleteRequest: { Key: key } });

describe('SingleTable.deleteAll', () => {
  const table = new SingleTable(new DynamoDBClient({}), 'berth');
  beforeEach(() => {
    documents.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('deletes in batches of 25 and sends again what DynamoDB left unprocessed', async () => {
    documents
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { berth: [deleteOf({ pk: 'p', sk: 's3' })] } })
      .resolves({ UnprocessedItems: {} });
    const done = table.deleteAll(keys);
    await vi.runAllTimersAsync();
    await done;
    const sent = documents.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.berth);
    expect(sent).toEqual([
      keys.slice(0, 25).map(deleteOf),
      [deleteOf({ pk: 'p', sk: 's3' })],
      keys.slice(25).map(deleteOf),
    ]);
  });

  it('gives up with 503 unavailable when DynamoDB keeps leaving items unprocessed', async () => {
    documents
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { berth: [deleteOf({ pk: 'p', sk: 's0' })] } });
    const done = table.deleteAll(keys.slice(0, 1));
    const failed = expect(done).rejects.toMatchObject({ code: 'unavailable' });
    await vi.runAllTimersAsync();
    await failed;
    expect(documents).toHaveReceivedCommandTimes(BatchWriteCommand, 6);
  });
});
