import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ORDERS,
  meterTaskEvents,
  recordTaskStops,
  TASK_EVENTS_BILLED,
  TASK_STOP_EVENTS,
} from '../support/ecs-task-events-scenario.ts';
import { tableCoreDeps } from '../support/table-core-deps.ts';

describe('ECS task events on DynamoDB Local', () => {
  it('bill from the image pull to the stop, once, whatever the order or duplication of events', async () => {
    for (const [name, order] of DELIVERY_ORDERS) {
      const metered = await meterTaskEvents(await tableCoreDeps(), order);
      expect({ name, ...metered }).toEqual({ name, ...TASK_EVENTS_BILLED });
    }
  });

  it('record why a task failed or that it was stopped outside Berth as one event of its app, however often ECS says it; not a stop Berth asked for', async () => {
    expect(await recordTaskStops(await tableCoreDeps())).toEqual(TASK_STOP_EVENTS);
  });
});
