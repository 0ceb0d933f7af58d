import type { CoreDeps } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { type EcsTaskStateChange, recordTaskEvent } from '../../functions/jobs/ecs-task-events.ts';
import { meterUsage } from '../../functions/jobs/meter.ts';
import type { ManualClock } from '../fakes/core-deps.ts';
import { ListedReplicas } from '../fakes/fake-runtime.ts';

const base = { group: 'service:berth_acme_web_89abcdef', cpu: '512', memory: '1024' };

/** One task's state changes as ECS documents them, pulled at 10:00:00 and stopped at 10:30:00.9. */
export const taskEvents = (arn: string): EcsTaskStateChange[] => [
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

/**
 * Delivers two tasks' events in the order `order` gives, with the meter running in between (the schedules and the
 * event rule run independently), then meters once more after both stopped. Returns the instance-seconds billed and
 * the lifetimes left open (none, when every stop was accounted for).
 */
export async function meterTaskEvents(
  deps: CoreDeps & { clock: ManualClock },
  order: (all: EcsTaskStateChange[]) => EcsTaskStateChange[],
) {
  deps.clock.current = new Date('2026-11-22T10:10:00Z');
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  const runtime = new ListedReplicas();
  const all = order([...taskEvents('arn:task/a'), ...taskEvents('arn:task/b')]);
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
  return {
    instanceSeconds: usage.reduce((n, u) => n + u.instanceSeconds, 0),
    open: (await deps.meter.listOpenLifetimes('acme')).length,
  };
}

/** The orders a scenario is checked in: as sent, reversed, duplicated, and by version across tasks. */
export const DELIVERY_ORDERS: [string, (all: EcsTaskStateChange[]) => EcsTaskStateChange[]][] = [
  ['in order', (all) => all],
  ['reversed', (all) => [...all].reverse()],
  ['duplicated', (all) => [...all, ...all, ...all.slice(2)]],
  [
    'newest version first',
    (all) => [...all].sort((a, b) => b.version - a.version || a.taskArn.localeCompare(b.taskArn)),
  ],
];
