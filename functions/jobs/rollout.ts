import { TERMINAL_DEPLOYMENT_STATUSES } from '../../schemas/app.ts';
import { type AppEventNote, appEventOf } from '../core/app-events.ts';
import { rollBackFailed, wayBack } from '../core/deployments.ts';
import type { AppRecord, CoreDeps, DeploymentRecord, Replica, TenantRecord } from '../core/ports.ts';
import { circuitBreakerThreshold } from '../core/reconcile-plan.ts';
import { sameValue } from '../core/same-value.ts';
import { allItems } from '../core/walk.ts';

/*
 * How a deployment moves on and what an app's status says, from what a reconciler observed — the same for replica
 * runtimes (Docker, Fargate tasks) and workload runtimes (Kubernetes).
 */

export interface RolloutDeps extends CoreDeps {
  /** A deployment that has not converged by then fails (and rolls back). */
  deploymentDeadlineMs: number;
  /**
   * When the reconciler began to watch, where what it knows of replicas' health begins empty with it (a local
   * platform's start): a deployment begun before, while no one probed its replicas, has its deadline from then, as
   * one that waited through a suspension has it from the reactivation.
   */
  watchingSince?: Date;
}

/** What a reconcile pass found for an app's target revision. */
export interface RolloutProgress {
  /** Replicas of the target revision the app should run. */
  desired: number;
  /** Ready replicas of the target revision. */
  readyTarget: number;
  /** Ready replicas of any revision: what serves traffic. */
  routable: number;
  /** The newest revision other than the target whose replicas serve, if any (servingRevisionOf). */
  servingRevision?: number | undefined;
  /** Only target replicas remain, `desired` of them ready. */
  converged: boolean;
  /** Failed starts of the target revision since the deployment began. */
  failedStarts: number;
  /** How the target revision's latest failed start failed (`exited with code 3`), where it is known. */
  lastFailure?: string | undefined;
  /** Replicas of the target revision were started (or scheduled) in this pass. */
  started: boolean;
  /** Why the runtime itself gave up on the rollout, if it did. */
  runtimeFailure?: string;
  /** Why the runtime cannot start the target's replicas, while it cannot (ObservedWorkload.notStarting). */
  notStarting?: string;
  /**
   * The app's tenant. While it is suspended (or gone) nothing of it runs and its deployments wait; one that waited
   * through a suspension has its deadline from `resumedAt`.
   */
  tenant: Pick<TenantRecord, 'status' | 'resumedAt'> | undefined;
}

/**
 * The newest revision other than `targetRevision` among replicas that serve: a rollout's way back while none of the
 * app's deployments has succeeded (see wayBack).
 */
export function servingRevisionOf(
  serving: Pick<Replica, 'revision'>[],
  targetRevision: number,
): number | undefined {
  const others = serving.map((r) => r.revision).filter((revision) => revision !== targetRevision);
  return others.length > 0 ? Math.max(...others) : undefined;
}

const isSuspended = (progress: Pick<RolloutProgress, 'tenant'>) => progress.tenant?.status !== 'active';

const isTerminal = (deployment: DeploymentRecord) => TERMINAL_DEPLOYMENT_STATUSES.includes(deployment.status);

/** Deployments read a page at a time, newest first, looking for the ones still open. */
const DEPLOYMENTS_PAGE = 5;

/**
 * Reads the app's latest deployment and ends the older ones still open as `superseded`: only the newest can proceed.
 * Every pass leaves only the latest open, and deployments are only ever added as the newest, so the open ones are the
 * newest few, down to the first that ended: as many as were made since the last pass, however many that was. They
 * are ended oldest first, so a pass cut short leaves the open ones still the newest.
 */
export async function latestDeployment(
  deps: CoreDeps,
  app: AppRecord,
): Promise<DeploymentRecord | undefined> {
  const [latest, ...older] = await newestUntilEnded(deps, app);
  for (const superseded of older.reverse()) {
    await deps.store.updateDeployment(
      {
        ...superseded,
        status: 'superseded',
        reason: `superseded by ${latest?.id}`,
        updatedAt: deps.clock.now().toISOString(),
      },
      superseded,
    );
  }
  return latest;
}

/** The app's deployments, newest first, down to (not including) the first older one that ended. */
async function newestUntilEnded(deps: CoreDeps, app: AppRecord): Promise<DeploymentRecord[]> {
  const newest: DeploymentRecord[] = [];
  const deployments = allItems(
    (page) => deps.store.listDeployments(app.tenantId, app.uid, page),
    DEPLOYMENTS_PAGE,
  );
  for await (const deployment of deployments) {
    if (newest.length > 0 && isTerminal(deployment)) break;
    newest.push(deployment);
  }
  return newest;
}

/**
 * Moves the latest deployment on from what a pass observed and writes what the app now shows (ready replicas, the
 * serving revision, its status) in one write: nobody reads a finished deployment on an app that does not show it
 * yet. When either record changed meanwhile, nothing is written and the next pass starts again. A deployment that
 * failed while another revision served ends `rolled_back`, in the one write of the rollback (see rollBackFailed):
 * the failed revision is never left as the target of an app whose old replicas serve.
 */
export async function advanceRollout(
  deps: RolloutDeps,
  app: AppRecord,
  latest: DeploymentRecord | undefined,
  progress: RolloutProgress,
): Promise<void> {
  const deployment = nextDeployment(deps, app, latest, progress);
  const observed = observedApp(app, progress, deployment);
  const moved =
    latest && deployment && deployment !== latest ? { record: deployment, read: latest } : undefined;
  if (moved && wayBack(observed, moved.record, progress.servingRevision) !== undefined) {
    await rollBackFailed(deps, observed, moved, progress.servingRevision);
    return;
  }
  const changed = !sameValue(observed, app);
  if (!moved && !changed) return;
  const now = deps.clock.now();
  const seen = [...suspensionNotes(app, observed), ...(moved ? outcomeNotes(moved.record) : [])];
  await deps.store.writeRollout({
    ...(changed ? { app: { record: observed, read: app } } : {}),
    ...(moved ? { deployment: moved } : {}),
    ...(seen.length > 0 ? { events: seen.map((note) => appEventOf(app, note, now)) } : {}),
  });
}

/** How a deployment ended, as the app's event. */
function outcomeNotes({ id, revision, status, reason }: DeploymentRecord): AppEventNote[] {
  const details = { deployment: id };
  if (status === 'succeeded') return [{ type: 'deployed', message: `revision ${revision} is live`, details }];
  if (status === 'failed') {
    return [
      { type: 'deploymentFailed', message: `deployment of revision ${revision} failed: ${reason}`, details },
    ];
  }
  return [];
}

/** A suspension of the app's tenant taking its replicas away, or giving them back, as the app's event. */
function suspensionNotes(app: AppRecord, observed: AppRecord): AppEventNote[] {
  if (observed.status === app.status) return [];
  if (observed.status === 'suspended') {
    return [{ type: 'suspended', message: 'the tenant is suspended: nothing runs until it is reactivated' }];
  }
  if (app.status === 'suspended') return [{ type: 'resumed', message: 'the tenant is active again' }];
  return [];
}

/**
 * Whether `failedStarts` trip the circuit breaker of `deployment`, the app's open deployment of its target revision:
 * the pass fails it (and rolls back), and starts nothing more of its revision.
 */
export function breakerTripped(
  app: AppRecord,
  deployment: DeploymentRecord | undefined,
  failedStarts: number,
): boolean {
  return (
    deployment !== undefined &&
    deployment.revision === app.targetRevision &&
    !isTerminal(deployment) &&
    failedStarts >= circuitBreakerThreshold(app.replicas)
  );
}

/**
 * The latest deployment moved on, when it is the target's and still open; otherwise the same object. A stopped,
 * suspended or deleting app runs nothing, which says nothing of the new revision: its deployment waits (starting the
 * app opens a new one; reactivating the tenant restarts its deadline; deleting the app removes them all).
 */
function nextDeployment(
  deps: RolloutDeps,
  app: AppRecord,
  deployment: DeploymentRecord | undefined,
  progress: RolloutProgress,
): DeploymentRecord | undefined {
  if (!deployment || deployment.revision !== app.targetRevision || isTerminal(deployment)) return deployment;
  if (app.status === 'stopped' || app.status === 'deleting' || isSuspended(progress)) return deployment;
  const now = deps.clock.now();
  const at = now.toISOString();
  const next: DeploymentRecord = structuredClone(deployment);
  next.failedStarts = Math.max(progress.failedStarts, deployment.failedStarts);
  if (next.status === 'pending') next.status = 'in_progress';
  if (progress.started) {
    next.phases.pull ??= at;
    next.phases.start ??= at;
  }
  const tripped = breakerTripped(app, deployment, next.failedStarts);
  const since = Math.max(
    Date.parse(deployment.createdAt),
    progress.tenant?.resumedAt ? Date.parse(progress.tenant.resumedAt) : 0,
    deps.watchingSince?.getTime() ?? 0,
  );
  const pastDeadline = now.getTime() > since + deps.deploymentDeadlineMs;
  if (progress.runtimeFailure || tripped || (pastDeadline && !progress.converged)) {
    const last = progress.lastFailure ? `; the last ${progress.lastFailure}` : '';
    const why = progress.notStarting ? `: ${progress.notStarting}` : '';
    next.status = 'failed';
    next.reason =
      progress.runtimeFailure ??
      (tripped
        ? `${next.failedStarts} replicas failed (circuit breaker at ${circuitBreakerThreshold(app.replicas)})${last}`
        : `not healthy within ${deps.deploymentDeadlineMs / 1000} s${why}`);
  } else if (progress.readyTarget >= progress.desired && progress.converged) {
    next.phases.healthy ??= at;
    next.phases.traffic ??= at;
    next.status = 'succeeded';
  } else if (progress.readyTarget >= progress.desired) {
    next.phases.healthy ??= at;
  }
  if (sameValue(next, deployment)) return deployment;
  next.updatedAt = at;
  return next;
}

/**
 * The app as the pass observed it: ready replicas, the serving revision and the status. A deleting app keeps its
 * record as it is; the pass that finds its last replica gone removes it.
 */
function observedApp(
  app: AppRecord,
  progress: Pick<RolloutProgress, 'desired' | 'routable' | 'tenant'>,
  deployment: DeploymentRecord | undefined,
): AppRecord {
  if (app.status === 'deleting') return app;
  const next: AppRecord = { ...app, readyReplicas: progress.routable, observedGeneration: app.generation };
  if (deployment?.status === 'succeeded' && deployment.revision === app.targetRevision) {
    next.currentRevision = deployment.revision;
  }
  if (app.status !== 'stopped') {
    if (isSuspended(progress)) next.status = 'suspended';
    else if (deployment && !isTerminal(deployment)) next.status = 'deploying';
    else if (progress.desired === 0 && deployment?.status === 'failed') next.status = 'failed';
    else if (progress.routable >= progress.desired) next.status = 'running';
    else next.status = progress.routable === 0 && deployment?.status === 'failed' ? 'failed' : 'degraded';
  }
  return next;
}
