import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { absent } from '../../functions/adapters/dynamodb/expressions.ts';
import { SingleTable } from '../../functions/adapters/dynamodb/single-table.ts';
import { localApi } from '../support/local-api.ts';

describe('transactions on DynamoDB Local', () => {
  it('lets DynamoDB take a resent transaction that went through as done, not as a failed condition', async () => {
    const { dynamodb, tableName } = await localApi();
    const put = {
      TransactItems: [
        new SingleTable(dynamodb, tableName).putItem({ pk: `p-${randomUUID()}`, sk: 's' }, absent()),
      ],
    };
    const token = randomUUID();
    await dynamodb.call('TransactWriteItems', { ...put, ClientRequestToken: token });
    // The same request again, as a retry after a lost answer sends it.
    await expect(
      dynamodb.call('TransactWriteItems', { ...put, ClientRequestToken: token }),
    ).resolves.toBeDefined();
    // Without the token, DynamoDB would have run it again and refused it on its own condition.
    await expect(dynamodb.call('TransactWriteItems', put)).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
    });
  });
});
