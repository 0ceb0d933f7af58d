import { isAwsError } from '../aws/retry.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';

/** The single table's keys; the CDK data stack declares the same (infra reads it from here). */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
  timeToLiveAttribute: 'expiresAt',
} as const;

function tableDefinition(tableName: string) {
  const attribute = (name: string) => ({ AttributeName: name, AttributeType: 'S' });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      attribute(TABLE_KEYS.partitionKey),
      attribute(TABLE_KEYS.sortKey),
      ...TABLE_KEYS.indexes.flatMap((i) => [attribute(i.partitionKey), attribute(i.sortKey)]),
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_KEYS.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' },
        { AttributeName: i.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

const TABLE_WAIT_MS = 60_000;

/** Creates the table (local mode) unless it exists, and waits until it is usable. */
export async function ensureTable(dynamodb: DynamoDbHttp, tableName: string): Promise<void> {
  try {
    await dynamodb.call('DescribeTable', { TableName: tableName });
    return;
  } catch (err) {
    if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
  }
  try {
    await dynamodb.call('CreateTable', tableDefinition(tableName));
  } catch (err) {
    if (!isAwsError(err, 'ResourceInUseException')) throw err;
  }
  await waitUntilActive(dynamodb, tableName);
  await dynamodb.call('UpdateTimeToLive', {
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: TABLE_KEYS.timeToLiveAttribute, Enabled: true },
  });
}

async function waitUntilActive(dynamodb: DynamoDbHttp, tableName: string): Promise<void> {
  const deadline = Date.now() + TABLE_WAIT_MS;
  for (;;) {
    const { Table } = await dynamodb.call<{ Table?: { TableStatus?: string } }>('DescribeTable', {
      TableName: tableName,
    });
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not active after ${TABLE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
