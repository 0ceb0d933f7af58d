import { parseTaskGroup } from '../adapters/fargate/task-requests.ts';
import { epochSeconds } from '../core/metering.ts';
import type { LifetimeRecord, MeterStore } from '../core/ports.ts';

/** The part of EventBridge's "ECS Task State Change" detail the meter reads. */
export interface EcsTaskStateChange {
  taskArn: string;
  group?: string;
  lastStatus: string;
  cpu?: string;
  memory?: string;
  pullStartedAt?: string;
  startedAt?: string;
  stoppedAt?: string;
  /** Increases with every change of the task; events arrive at least once and in any order. */
  version: number;
}

/** The lifetime an event shows: from the image pull (as Fargate bills) or start, to the stop once there is one. */
export function lifetimeFromEvent(detail: EcsTaskStateChange): LifetimeRecord | undefined {
  const owner = parseTaskGroup(detail.group);
  const start = detail.pullStartedAt ?? detail.startedAt;
  if (!owner || !start) return undefined;
  const startedSec = epochSeconds(start);
  const stopped = detail.lastStatus === 'STOPPED' && detail.stoppedAt ? epochSeconds(detail.stoppedAt) : null;
  return {
    tenantId: owner.tenantId,
    instanceId: detail.taskArn,
    app: owner.app,
    cpu: Number(detail.cpu ?? 0) / 1024,
    memoryMiB: Number(detail.memory ?? 0),
    startedSec,
    stoppedSec: stopped === null ? null : Math.max(startedSec, stopped),
    meteredSec: startedSec,
  };
}

/**
 * The ecs-events job: records a task's start and stop for the meter. Events come at least once and unordered, so
 * the write is order-free and idempotent: a lifetime's start is set once (its first sighting), its stop once, and a
 * closed lifetime is never reopened — duplicates and stale versions change nothing.
 */
export async function recordTaskEvent(meter: MeterStore, detail: EcsTaskStateChange): Promise<boolean> {
  const lifetime = lifetimeFromEvent(detail);
  if (!lifetime) return false;
  await meter.observeLifetime(lifetime);
  return true;
}
