import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { DynamoMeterStore } from '../../functions/adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import {
  DELIVERY_ORDERS,
  meterTaskEvents,
  recordTaskStops,
  TASK_STOP_EVENTS,
} from '../support/ecs-task-events-scenario.ts';

/** Core deps whose store and meter are the table's, on a fresh table of the run's DynamoDB Local. */
async function tableDeps() {
  const client = localDynamoDbClient(inject('dynamodb'));
  const table = `t-${randomUUID()}`;
  await ensureTable(client, table);
  const deps = {
    ...(await fakeCoreDeps()),
    store: new DynamoStore(client, table),
    meter: new DynamoMeterStore(client, table),
  };
  await seedPlans(deps);
  return deps;
}

describe('ECS task events on DynamoDB Local', () => {
  it('bill from the image pull to the stop, once, whatever the order or duplication of events', async () => {
    for (const [name, order] of DELIVERY_ORDERS) {
      const metered = await meterTaskEvents(await tableDeps(), order);
      expect({ name, ...metered }).toEqual({ name, instanceSeconds: 2 * 1800, open: 0 });
    }
  });

  it('record why a task failed or that it was stopped outside Berth as one event of its app, however often ECS says it; not a stop Berth asked for', async () => {
    expect(await recordTaskStops(await tableDeps())).toEqual(TASK_STOP_EVENTS);
  });
});
