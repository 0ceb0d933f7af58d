import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { DynamoMeterStore } from '../../functions/adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';

/**
 * Core deps over fakes whose store and meter are a fresh table's of the run's DynamoDB Local, the seeded plans in
 * it; `client` is the table's connection, for a test that watches its calls.
 */
export async function tableCoreDeps() {
  const client = localDynamoDbClient(inject('dynamodb'));
  const table = `t-${randomUUID()}`;
  await ensureTable(client, table);
  const deps = {
    ...(await fakeCoreDeps()),
    store: new DynamoStore(client, table),
    meter: new DynamoMeterStore(client, table),
  };
  await seedPlans(deps);
  return { ...deps, client };
}
