import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { DynamoMeterStore } from '../../functions/adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import { FakeRegistry } from '../fakes/fake-registry.ts';

/**
 * Core deps over fakes whose store and meter are a fresh table's of the run's DynamoDB Local (reached at `endpoint`
 * where a test puts something between), the seeded plans in it, and whose registry keeps its repositories there;
 * `client` is the table's connection, for a test that watches its calls.
 */
export async function tableCoreDeps(endpoint?: string) {
  const address = inject('dynamodb');
  const client = localDynamoDbClient(endpoint ? { ...address, endpoint } : address);
  const table = `t-${randomUUID()}`;
  await ensureTable(client, table);
  const store = new DynamoStore(client, table);
  const deps = {
    ...(await fakeCoreDeps()),
    store,
    meter: new DynamoMeterStore(client, table),
    registry: new FakeRegistry(store),
  };
  await seedPlans(deps);
  return { ...deps, client };
}
