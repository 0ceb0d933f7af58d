import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocalAddress, localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';

/** The tables a DynamoDB Local shows to whoever comes with the address's access key. */
export async function tableNames(address: DynamoDbLocalAddress): Promise<string[] | undefined> {
  const client = localDynamoDbClient(address);
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames;
  } finally {
    client.destroy();
  }
}
