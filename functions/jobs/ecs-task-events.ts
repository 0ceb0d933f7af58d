import {
  failedHealthChecks,
  isOutsideBerthStop,
  parseTaskGroup,
  taskStopReason,
} from '../adapters/fargate/task-requests.ts';
import { recordAppEvent } from '../core/app-events.ts';
import { epochSeconds } from '../core/metering.ts';
import type { AppEventType, Clock, LifetimeRecord, MeterStore, Store } from '../core/ports.ts';

/** The part of EventBridge's "ECS Task State Change" detail the meter and the apps' events read. */
export interface EcsTaskStateChange {
  taskArn: string;
  group?: string;
  lastStatus: string;
  cpu?: string;
  memory?: string;
  pullStartedAt?: string;
  startedAt?: string;
  stoppedAt?: string;
  /** When the task last changed: what names a stop ECS reported without its time. */
  updatedAt?: string;
  /** Why: `TaskFailedToStart`, `EssentialContainerExited`, `ServiceSchedulerInitiated`, `UserInitiated`, … */
  stopCode?: string;
  /** ECS's words, e.g. `CannotPullContainerError: …` or `Task failed ELB health checks in …`. */
  stoppedReason?: string;
  /** The app's container (a task of Berth's has one): its exit code, and e.g. `OutOfMemoryError: …`. */
  containers?: { exitCode?: number; reason?: string }[];
  /** Increases with every change of the task; events arrive at least once and in any order. */
  version: number;
}

/**
 * A stopped task's stop as an app event: how it failed (an image it could not pull, a crash, memory, health checks:
 * ECS's deployment circuit breaker says only that tasks failed), or that it was stopped outside Berth, as the local
 * platform tells a container removed by hand. Undefined for one that stopped as Berth asked (scaled in, replaced by a
 * deployment, the app stopped or deleted) or exited 0.
 */
function taskStopEvent(
  detail: EcsTaskStateChange,
): { type: AppEventType; message: string; exitCode: number | null } | undefined {
  if (detail.lastStatus !== 'STOPPED') return undefined;
  const exitCode = detail.containers?.[0]?.exitCode ?? null;
  const why = taskStopReason(detail);
  if (detail.stopCode === 'TaskFailedToStart')
    return {
      type: 'replicaExited',
      message: `replica failed to start: ${why ?? 'ECS gave no reason'}`,
      exitCode,
    };
  if (failedHealthChecks(detail.stoppedReason))
    return { type: 'unhealthy', message: `replica stopped: ${detail.stoppedReason}`, exitCode };
  if (isOutsideBerthStop(detail.stopCode))
    return { type: 'replicaRemoved', message: `replica ${why}`, exitCode };
  // A container ECS stopped (scaled in, replaced) exits non-zero too, on SIGTERM: only one that exited by itself
  // failed.
  if (detail.stopCode === 'EssentialContainerExited' && exitCode !== null && exitCode !== 0) {
    const reason = why ? `: ${why}` : '';
    return { type: 'replicaExited', message: `replica exited with code ${exitCode}${reason}`, exitCode };
  }
  return undefined;
}

/** The lifetime an event shows: from the image pull (as Fargate bills) or start, to the stop once there is one. */
function lifetimeFromEvent(detail: EcsTaskStateChange): LifetimeRecord | undefined {
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

export interface TaskEventDeps {
  meter: MeterStore;
  store: Store;
  clock: Clock;
}

/**
 * The ecs-events job: records a task's start and stop for the meter, and a stop worth telling (taskStopEvent) as an
 * event of its app. Events come at least once and unordered, so both writes are order-free and idempotent: a
 * lifetime's start is set once (its first sighting), its stop once, and a closed lifetime is never reopened; a stop's
 * event is keyed by the task and its stop, so a duplicate writes the same event. What it recorded: a lifetime, a
 * stop's event.
 */
export async function recordTaskEvent(
  deps: TaskEventDeps,
  detail: EcsTaskStateChange,
): Promise<{ lifetime: boolean; stopEvent: boolean }> {
  const lifetime = lifetimeFromEvent(detail);
  if (lifetime) await deps.meter.observeLifetime(lifetime);
  return { lifetime: lifetime !== undefined, stopEvent: await recordStopEvent(deps, detail) };
}

/**
 * A stop worth telling as an event of the task's app, if the app (that incarnation of it) still exists and is not
 * being deleted: its deletion stops its tasks.
 */
async function recordStopEvent(deps: TaskEventDeps, detail: EcsTaskStateChange): Promise<boolean> {
  const told = taskStopEvent(detail);
  const owner = parseTaskGroup(detail.group);
  if (!told || !owner) return false;
  const app = await deps.store.getApp(owner.tenantId, owner.app);
  if (!app?.uid.endsWith(owner.incarnation) || app.status === 'deleting') return false;
  // A time ECS gave, so that a duplicate names the same event.
  const reported = detail.stoppedAt ?? detail.updatedAt;
  const at = reported ? new Date(reported) : deps.clock.now();
  await recordAppEvent(
    deps,
    app,
    told.type,
    told.message,
    { replica: detail.taskArn, exitCode: told.exitCode, stopCode: detail.stopCode ?? null },
    { at, of: `${detail.taskArn} stopped` },
  );
  return true;
}
