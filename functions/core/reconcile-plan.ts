import type { HealthCheck } from '../../schemas/app.ts';
import { codeUnitOrder } from './code-unit-order.ts';
import type { AppRecord, DeploymentRecord, Replica } from './ports.ts';

/** The health check a replica gets when its app names none: a TCP connect to the port. */
export const DEFAULT_HEALTH_CHECK: HealthCheck = {
  intervalSeconds: 10,
  timeoutSeconds: 2,
  healthyThreshold: 1,
  unhealthyThreshold: 3,
  gracePeriodSeconds: 10,
};

/** What the health tracker knows of a replica. */
export interface ReplicaHealth {
  /** Passed healthyThreshold probes in a row and has not failed since: it may take traffic. */
  ready: boolean;
  /** Failed unhealthyThreshold probes in a row after its grace period: it must be replaced. */
  unhealthy: boolean;
}

/** Recent failures of one slot of one revision, for back-off and crash-loop detection. */
export interface SlotHistory {
  failures: number;
  lastFailureAt: number;
}

export interface ReconcileInput {
  app: AppRecord;
  tenantActive: boolean;
  /** The app's latest deployment. */
  deployment: DeploymentRecord | undefined;
  replicas: Replica[];
  health(replica: Replica): ReplicaHealth;
  history(revision: number, slot: number): SlotHistory;
  nowMs: number;
}

export type RemovalReason = 'scaleIn' | 'exited' | 'unhealthy' | 'replaced' | 'stopped';

export interface ReconcilePlan {
  /** Replicas of the target revision the app should have. */
  desired: number;
  remove: { replica: Replica; reason: RemovalReason }[];
  /** Slots of the target revision to start a replica in now. */
  start: number[];
  /** Ready replicas that may take traffic (old ones included until the new ones are ready). */
  routable: Replica[];
  readyTarget: number;
  /** Old replicas are gone and `desired` target replicas are ready. */
  converged: boolean;
  /** Something is on its way (starting, probing, backing off): look again soon rather than at the next tick. */
  busy: boolean;
}

const MAX_BACKOFF_MS = 60_000;

/** 0 after the first failure of a slot (replace at once), then 1 s, 2 s, 4 s … up to a minute. */
function restartBackoffMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 2));
}

/** Failed starts that trip a deployment's circuit breaker: clamp(0.5 × replicas, 3, 200). */
export function circuitBreakerThreshold(replicas: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * replicas)));
}

/** How many replicas of the target revision the app should run now. */
export function desiredReplicas(input: Pick<ReconcileInput, 'app' | 'tenantActive' | 'deployment'>): number {
  const { app, deployment } = input;
  if (!input.tenantActive || app.status === 'stopped' || app.status === 'deleting') return 0;
  // A tripped circuit breaker with nothing to roll back to: stop trying until the next deployment.
  if (deployment?.status === 'failed' && deployment.revision === app.targetRevision) return 0;
  return app.replicas;
}

/**
 * Desired against observed, from scratch (level-triggered): which replicas to remove and which slots to start,
 * with rolling replacement — old or stale replicas keep serving until `desired` new ones are ready.
 */
export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const { app, replicas, nowMs } = input;
  const desired = desiredReplicas(input);
  const restartedAt = app.restartedAt ? Date.parse(app.restartedAt) : 0;
  const isTarget = (r: Replica) =>
    r.revision === app.targetRevision && Date.parse(r.createdAt) >= restartedAt;
  const remove: ReconcilePlan['remove'] = [];
  const live: Replica[] = [];

  for (const replica of replicas.filter(isTarget)) {
    if (replica.slot >= desired) remove.push({ replica, reason: desired === 0 ? 'stopped' : 'scaleIn' });
    else if (replica.state === 'exited') remove.push({ replica, reason: 'exited' });
    else if (input.health(replica).unhealthy) remove.push({ replica, reason: 'unhealthy' });
    else live.push(replica);
  }
  // Two live replicas in one slot (a race or a restart of the platform mid-start): keep the older.
  const bySlot = new Map<number, Replica>();
  for (const replica of live.sort((a, b) => codeUnitOrder(a.createdAt, b.createdAt))) {
    if (bySlot.has(replica.slot)) remove.push({ replica, reason: 'scaleIn' });
    else bySlot.set(replica.slot, replica);
  }

  const start: number[] = [];
  for (let slot = 0; slot < desired; slot++) {
    if (bySlot.has(slot)) continue;
    const history = input.history(app.targetRevision, slot);
    if (nowMs >= history.lastFailureAt + restartBackoffMs(history.failures)) start.push(slot);
  }

  const routable = [...bySlot.values()].filter((r) => r.state === 'running' && input.health(r).ready);
  const readyTarget = routable.length;
  const rolledOut = readyTarget >= desired;
  const others = replicas.filter((r) => !isTarget(r));
  for (const replica of others) {
    // An old replica serves until the rollout is done: one whose probes have yet to pass (a platform restarted
    // mid-rollout knows no replica's health at first) is kept, out of traffic, until they do or it fails them.
    const { ready, unhealthy } = input.health(replica);
    if (!rolledOut && replica.state === 'running' && !unhealthy) {
      if (ready) routable.push(replica);
    } else
      remove.push({
        replica,
        reason: desired === 0 ? 'stopped' : replica.state === 'exited' ? 'exited' : 'replaced',
      });
  }
  return {
    desired,
    remove,
    start,
    routable,
    readyTarget,
    // Rolled out, every other replica is among those to remove, and no slot is left to start.
    converged: rolledOut && remove.length === 0,
    // Short of `desired` ready target replicas, one is starting, probing or backing off.
    busy: !rolledOut,
  };
}
