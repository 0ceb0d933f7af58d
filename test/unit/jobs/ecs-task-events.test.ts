import { describe, expect, it } from 'vitest';
import { createTenant } from '../../../functions/core/tenants.ts';
import { type EcsTaskStateChange, recordTaskEvent } from '../../../functions/jobs/ecs-task-events.ts';
import { meterUsage } from '../../../functions/jobs/meter.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { ListedReplicas } from '../../fakes/fake-runtime.ts';
import type { MemoryMeterStore } from '../../fakes/memory-meter-store.ts';

const base = { group: 'service:berth_acme_web_89abcdef', cpu: '512', memory: '1024' };
const events = (arn: string): EcsTaskStateChange[] => [
  { ...base, taskArn: arn, lastStatus: 'PROVISIONING', version: 1 },
  { ...base, taskArn: arn, lastStatus: 'PENDING', pullStartedAt: '2026-11-22T10:00:00.000Z', version: 2 },
  {
    ...base,
    taskArn: arn,
    lastStatus: 'RUNNING',
    pullStartedAt: '2026-11-22T10:00:00.000Z',
    startedAt: '2026-11-22T10:00:15.000Z',
    version: 3,
  },
  {
    ...base,
    taskArn: arn,
    lastStatus: 'STOPPED',
    pullStartedAt: '2026-11-22T10:00:00.000Z',
    startedAt: '2026-11-22T10:00:15.000Z',
    stoppedAt: '2026-11-22T10:30:00.900Z',
    version: 5,
  },
];

async function meteredSeconds(order: (all: EcsTaskStateChange[]) => EcsTaskStateChange[]) {
  const deps = await fakeCoreDeps();
  deps.clock.current = new Date('2026-11-22T10:10:00Z');
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  const runtime = new ListedReplicas();
  const all = order([...events('arn:task/a'), ...events('arn:task/b')]);
  // Meter runs interleaved with event delivery, as the schedules and the event rule run independently.
  for (const [i, event] of all.entries()) {
    await recordTaskEvent(deps.meter, event);
    if (i % 3 === 0) {
      deps.clock.advance(60_000);
      await meterUsage({ ...deps, runtime });
    }
  }
  deps.clock.current = new Date('2026-11-22T11:00:00Z');
  await meterUsage({ ...deps, runtime });
  const usage = await deps.store.listUsage('acme', '2026-11-22T00', '2026-11-22T23');
  expect((deps.meter as MemoryMeterStore).open.size).toBe(0);
  return usage.reduce((n, u) => n + u.instanceSeconds, 0);
}

describe('ECS task events', () => {
  it('bill from the image pull to the stop, once, whatever the order or duplication of events', async () => {
    const ordered = await meteredSeconds((all) => all);
    expect(ordered).toBe(2 * 1800); // 10:00:00 → 10:30:00 per task
    expect(await meteredSeconds((all) => [...all].reverse())).toBe(ordered);
    expect(await meteredSeconds((all) => [...all, ...all, ...all.slice(2)])).toBe(ordered);
    expect(
      await meteredSeconds((all) =>
        [...all].sort((a, b) => b.version - a.version || a.taskArn.localeCompare(b.taskArn)),
      ),
    ).toBe(ordered);
  });

  it('ignores tasks that are not Berth’s', async () => {
    const deps = await fakeCoreDeps();
    expect(
      await recordTaskEvent(deps.meter, {
        ...events('arn:x')[3],
        group: 'family:other',
      } as EcsTaskStateChange),
    ).toBe(false);
  });
});
