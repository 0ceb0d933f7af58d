import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTenant } from '../../../functions/core/tenants.ts';
import { listEveryUsage } from '../../../functions/core/walk.ts';
import { type EcsTaskStateChange, recordTaskEvent } from '../../../functions/jobs/ecs-task-events.ts';
import { meterUsage } from '../../../functions/jobs/meter.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { ListedReplicas } from '../../fakes/fake-runtime.ts';
import {
  DELIVERY_ORDERS,
  meterTaskEvents,
  recordTaskStops,
  TASK_EVENTS_BILLED,
  TASK_STOP_EVENTS,
  taskEvents,
} from '../../support/ecs-task-events-scenario.ts';

describe('ECS task events', () => {
  it('bill from the image pull to the stop, once, whatever the order or duplication of events', async () => {
    for (const [name, order] of DELIVERY_ORDERS) {
      const metered = await meterTaskEvents(await fakeCoreDeps(), order);
      expect({ name, ...metered }).toEqual({ name, ...TASK_EVENTS_BILLED }); // 10:00:00 → 10:30:00 each
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
        expect(metered).toEqual(TASK_EVENTS_BILLED);
      }),
      { numRuns: 200 },
    );
  });

  it('counts what a task that lived under a minute falls short of it, from its image pull', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const [, pulling, , stopped] = taskEvents('arn:task/short');
    await recordTaskEvent(deps, pulling as EcsTaskStateChange);
    await recordTaskEvent(deps, {
      ...(stopped as EcsTaskStateChange),
      stoppedAt: '2026-11-22T10:00:20.000Z',
    });
    deps.clock.current = new Date('2026-11-22T11:00:00Z');
    await meterUsage({ ...deps, runtime: new ListedReplicas() });
    expect(await listEveryUsage(deps.store, 'acme', '2026-11-22T00', '2026-11-22T23')).toEqual([
      {
        tenantId: 'acme',
        app: 'web',
        hour: '2026-11-22T10',
        instanceSeconds: 20,
        vcpuMilliSeconds: 20 * 500,
        memoryMiBSeconds: 20 * 1024,
        shortfallInstanceSeconds: 40,
        shortfallVcpuMilliSeconds: 40 * 500,
        shortfallMemoryMiBSeconds: 40 * 1024,
      },
    ]);
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
