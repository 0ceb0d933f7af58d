import { type DynamoDbLocalAddress, localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';

/** The tables a DynamoDB Local shows to whoever comes with the address's access key. */
export async function tableNames(address: DynamoDbLocalAddress): Promise<string[] | undefined> {
  const { TableNames } = await localDynamoDbClient(address).call<{ TableNames?: string[] }>('ListTables', {});
  return TableNames;
}
