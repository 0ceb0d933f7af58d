import { createApp, deleteApp } from '../../functions/core/apps.ts';
import type { CoreDeps, RegistryDeps } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { listEveryUsage } from '../../functions/core/walk.ts';
import { type EcsTaskStateChange, recordTaskEvent } from '../../functions/jobs/ecs-task-events.ts';
import { type MeterDeps, meterUsage } from '../../functions/jobs/meter.ts';
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
 * event rule run independently), then meters once more after both stopped. Returns the usage billed, by app and hour,
 * and the lifetimes left open (none, when every stop was accounted for).
 */
export async function meterTaskEvents(
  deps: CoreDeps & Pick<MeterDeps, 'logger'> & { clock: ManualClock },
  order: (all: EcsTaskStateChange[]) => EcsTaskStateChange[],
) {
  deps.clock.current = new Date('2026-11-22T10:10:00Z');
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  const runtime = new ListedReplicas();
  const all = order([...taskEvents('arn:task/a'), ...taskEvents('arn:task/b')]);
  for (const [i, event] of all.entries()) {
    await recordTaskEvent(deps, event);
    if (i % 3 === 0) {
      deps.clock.advance(60_000);
      await meterUsage({ ...deps, runtime });
    }
  }
  deps.clock.current = new Date('2026-11-22T11:00:00Z');
  await meterUsage({ ...deps, runtime });
  return {
    usage: await listEveryUsage(deps.store, 'acme', '2026-11-22T00', '2026-11-22T23'),
    open: (await deps.meter.listOpenLifetimes('acme')).length,
  };
}

/** What meterTaskEvents bills: the two tasks' half hour each, 0.5 vCPU and 1 GiB, on acme's app `web`. */
export const TASK_EVENTS_BILLED = {
  usage: [
    {
      tenantId: 'acme',
      app: 'web',
      hour: '2026-11-22T10',
      instanceSeconds: 2 * 1800,
      vcpuMilliSeconds: 2 * 1800 * 500,
      memoryMiBSeconds: 2 * 1800 * 1024,
      shortfallInstanceSeconds: 0,
      shortfallVcpuMilliSeconds: 0,
      shortfallMemoryMiBSeconds: 0,
    },
  ],
  open: 0,
};

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

/** A stopped task of `group`'s, as ECS's documentation shows its Task State Change detail. */
const stopped = (group: string, arn: string, stop: Partial<EcsTaskStateChange>): EcsTaskStateChange => ({
  group,
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/berth/${arn}`,
  lastStatus: 'STOPPED',
  cpu: '256',
  memory: '512',
  pullStartedAt: '2026-11-22T10:00:00.000Z',
  stoppedAt: '2026-11-22T10:05:00.000Z',
  version: 4,
  ...stop,
});

/**
 * Delivers the stops of an app's tasks on Fargate (failed ones, ones stopped outside Berth and ones stopped as asked,
 * a failure twice and an older version of it after, a stop under way before it is done) and of its predecessor's by
 * the same name, then deletes the app and delivers a stop its deletion made; the app's events of them, oldest first.
 */
export async function recordTaskStops(deps: RegistryDeps & { clock: ManualClock }) {
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
  await createApp({ ...deps, runtimes: ['fargate'] }, 'acme', { name: 'web', ...spec });
  const app = await deps.store.getApp('acme', 'web');
  if (!app) throw new Error('no app');
  const group = `service:berth_acme_web_${app.uid.slice(-8)}`;
  const pullFailed = stopped(group, 'a1', {
    stopCode: 'TaskFailedToStart',
    stoppedReason:
      "CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'",
    containers: [{}],
    stoppedAt: '2026-11-22T10:01:00.000Z',
  });
  const unhealthy = stopped(group, 'c3', {
    stopCode: 'ServiceSchedulerInitiated',
    stoppedReason:
      'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/berth-acme-web/0123456789abcdef)',
    containers: [{ exitCode: 143 }],
    stoppedAt: '2026-11-22T10:03:00.000Z',
  });
  const events = [
    pullFailed,
    pullFailed,
    { ...pullFailed, lastStatus: 'PENDING', version: 2 },
    stopped(group, 'b2', {
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
      stoppedAt: '2026-11-22T10:02:00.000Z',
    }),
    // Its stop under way first (its target draining: stop code and reason given, no stop time), then done.
    {
      ...unhealthy,
      lastStatus: 'DEACTIVATING',
      stoppedAt: undefined,
      updatedAt: '2026-11-22T10:02:30.000Z',
      version: 3,
    },
    unhealthy,
    // Stopped as asked: scaled in (SIGTERM's exit code), or exited 0.
    stopped(group, 'd4', {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1234567890123456789)',
      containers: [{ exitCode: 143 }],
    }),
    stopped(group, 'e5', {
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ exitCode: 0 }],
    }),
    // A failure ECS reported without its stop time, twice: its change's time names it instead.
    ...Array.from({ length: 2 }, () =>
      stopped(group, 'g7', {
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'ResourceInitializationError: unable to pull secrets or registry auth',
        stoppedAt: undefined,
        updatedAt: '2026-11-22T10:04:00.000Z',
      }),
    ),
    // The predecessor's: another incarnation of the app's name.
    stopped('service:berth_acme_web_00000000', 'f6', { stopCode: 'TaskFailedToStart', stoppedReason: 'x' }),
    // Stopped outside Berth: StopTask with a reason, and AWS's retirement of a task, which gave none.
    stopped(group, 'h8', {
      stopCode: 'UserInitiated',
      stoppedReason: 'stopped by the on-call engineer',
      containers: [{ exitCode: 143 }],
      stoppedAt: '2026-11-22T10:06:00.000Z',
    }),
    // An app that ends on SIGTERM as it should: exit code 0.
    stopped(group, 'i9', {
      stopCode: 'TerminationNotice',
      containers: [{ exitCode: 0 }],
      stoppedAt: '2026-11-22T10:07:00.000Z',
    }),
  ];
  const deliver = async (event: EcsTaskStateChange) => {
    // Deliveries come apart in time.
    deps.clock.advance(1000);
    await recordTaskEvent(deps, event);
  };
  for (const event of events) await deliver(event);
  await deleteApp(deps, 'acme', 'web');
  await deliver(stopped(group, 'j10', { stopCode: 'UserInitiated', stoppedAt: '2026-11-22T10:08:00.000Z' }));
  const { items } = await deps.store.listAppEvents('acme', app.uid, { limit: 100 });
  return items
    .filter((e) => e.type === 'replicaExited' || e.type === 'unhealthy' || e.type === 'replicaRemoved')
    .map(({ type, message, at, details }) => ({ type, message, at, details }))
    .reverse();
}

/** What recordTaskStops's events should be. */
export const TASK_STOP_EVENTS = [
  {
    type: 'replicaExited',
    message:
      "replica failed to start: CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'",
    at: '2026-11-22T10:01:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/a1',
      exitCode: null,
      stopCode: 'TaskFailedToStart',
    },
  },
  {
    type: 'replicaExited',
    message: 'replica exited with code 137: OutOfMemoryError: Container killed due to memory usage',
    at: '2026-11-22T10:02:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/b2',
      exitCode: 137,
      stopCode: 'EssentialContainerExited',
    },
  },
  {
    type: 'unhealthy',
    message:
      'replica stopped: Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/berth-acme-web/0123456789abcdef)',
    at: '2026-11-22T10:03:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/c3',
      exitCode: 143,
      stopCode: 'ServiceSchedulerInitiated',
    },
  },
  {
    type: 'replicaExited',
    message: 'replica failed to start: ResourceInitializationError: unable to pull secrets or registry auth',
    at: '2026-11-22T10:04:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/g7',
      exitCode: null,
      stopCode: 'TaskFailedToStart',
    },
  },
  {
    type: 'replicaRemoved',
    message: 'replica stopped outside Berth: stopped by the on-call engineer',
    at: '2026-11-22T10:06:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/h8',
      exitCode: 143,
      stopCode: 'UserInitiated',
    },
  },
  {
    type: 'replicaRemoved',
    message: 'replica stopped outside Berth: TerminationNotice',
    at: '2026-11-22T10:07:00.000Z',
    details: {
      replica: 'arn:aws:ecs:us-east-1:123456789012:task/berth/i9',
      exitCode: 0,
      stopCode: 'TerminationNotice',
    },
  },
];
