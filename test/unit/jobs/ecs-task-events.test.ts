import fc from 'fast-check';
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

  it('bill the same, once, for any order of delivery with any events repeated', async () => {
    const EVENTS = 2 * taskEvents('arn:x').length;
    const delivery = fc.tuple(
      fc.shuffledSubarray(
        Array.from({ length: EVENTS }, (_, i) => i),
        { minLength: EVENTS, maxLength: EVENTS },
      ),
      fc.array(fc.nat({ max: EVENTS - 1 }), { maxLength: EVENTS }),
    );
    await fc.assert(
      fc.asyncProperty(delivery, async ([each, again]) => {
        const metered = await meterTaskEvents(await fakeCoreDeps(), (all) =>
          [...each, ...again].flatMap((i) => all[i] ?? []),
        );
        expect(metered).toEqual({ instanceSeconds: 2 * 1800, open: 0 });
      }),
      { numRuns: 200 },
    );
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
