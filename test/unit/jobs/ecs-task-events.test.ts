import { describe, expect, it } from 'vitest';
import { type EcsTaskStateChange, recordTaskEvent } from '../../../functions/jobs/ecs-task-events.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import {
  DELIVERY_ORDERS,
  meterTaskEvents,
  recordTaskStops,
  TASK_STOP_EVENTS,
  taskEvents,
} from '../../support/ecs-task-events-scenario.ts';

describe('ECS task events', () => {
  it('bill from the image pull to the stop, once, whatever the order or duplication of events', async () => {
    for (const [name, order] of DELIVERY_ORDERS) {
      const metered = await meterTaskEvents(await fakeCoreDeps(), order);
      expect({ name, ...metered }).toEqual({ name, instanceSeconds: 2 * 1800, open: 0 }); // 10:00:00 → 10:30:00 each
    }
  });

  it('ignores tasks that are not Berth’s', async () => {
    const deps = await fakeCoreDeps();
    expect(
      await recordTaskEvent(deps, {
        ...taskEvents('arn:x')[3],
        group: 'family:other',
        stopCode: 'TaskFailedToStart',
      } as EcsTaskStateChange),
    ).toEqual({ lifetime: false, stopEvent: false });
  });

  it('records why a task failed or that it was stopped outside Berth as one event of its app, however often ECS says it; not a stop Berth asked for', async () => {
    expect(await recordTaskStops(await fakeCoreDeps())).toEqual(TASK_STOP_EVENTS);
  });
});
