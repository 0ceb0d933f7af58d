import { exitedWith, recordAppEvent, stoppedOutsideBerth } from '../core/app-events.ts';
import { generationOf } from '../core/apps.ts';
import { ConflictError, isDomainError } from '../core/errors.ts';
import { pinnedImage } from '../core/images.ts';
import { lifetimeOf } from '../core/metering.ts';
import { mostlyOrphaned } from '../core/orphan-valve.ts';
import type {
  AppEventType,
  AppRecord,
  Clock,
  DeploymentRecord,
  HealthProbe,
  MeterStore,
  PullCredentials,
  Replica,
  ReplicaInsight,
  RevisionRecord,
  Runtime,
  Store,
  TrafficRouter,
} from '../core/ports.ts';
import {
  DEFAULT_HEALTH_CHECK,
  planReconcile,
  type ReconcileInput,
  type ReconcilePlan,
} from '../core/reconcile-plan.ts';
import { AppRevisions } from './app-revisions.ts';
import { HealthTracker } from './health-tracker.ts';
import {
  advanceRollout,
  breakerTripped,
  latestDeployment,
  type RolloutDeps,
  servingRevisionOf,
} from './rollout.ts';
import { StartFailures } from './start-failures.ts';

export interface ReconcilerDeps extends RolloutDeps {
  store: Store;
  runtime: Runtime;
  probe: HealthProbe;
  router: TrafficRouter;
  meter: MeterStore;
  clock: Clock;
  /**
   * Where and as whom a tenant's image is pulled: an image of the platform registry from where it listens now, with
   * credentials; any other as it is named, with none.
   */
  pullOf(tenantId: string, image: string): { image: string; credentials?: PullCredentials };
  logger: { error(message: string, details: Record<string, unknown>): void };
  /** Who this reconciler is, for the per-app lease. */
  owner: string;
  /** Seconds a replica gets between SIGTERM and SIGKILL when it is replaced or stopped. */
  stopGraceSeconds: number;
}

/**
 * How long one reconciler holds an app. Short, so a crashed reconciler's apps are picked up soon; a pass that
 * outlives it is still safe (replica names and conditional writes stop double action).
 */
const LEASE_MS = 10_000;
/**
 * How soon after taking an app's lease a reconciler's next pass counts on it rather than taking it again: no other
 * reconciler can take it before it ends, so taking it again would only write the same item. A tenth of it, so no
 * pass starts with less than 9 s of it left.
 */
const LEASE_COUNTED_ON_MS = LEASE_MS / 10;
/** A replica healthy this long before it fails is not crash-looping: its slot's back-off starts over. */
const STABLE_MS = 10_000;

/**
 * How a replica failed, for its events: in words, its probe's last failure if it failed its checks, and its slot's
 * failures so far.
 */
interface ReplicaFailure {
  what: string;
  probe: string | undefined;
  failures: number;
}

/** What a pass over an app leaves to do. */
export interface PassOutcome {
  /** Replicas starting, probes of starting replicas pending, back-off running: look again soon. */
  busy: boolean;
  /** How long until a replica's next health probe falls due. */
  probeInMs?: number;
}

/**
 * The reconcile job for one app: desired state (the store) against observed state (the runtime), level-triggered.
 * Health, back-off and failure counts live in memory as a cache; losing them (a restart) only re-probes.
 */
export class Reconciler {
  private readonly health: HealthTracker;
  private readonly failures: StartFailures;
  private readonly revisions: AppRevisions;
  /** When this reconciler last took each app's lease, by lease name. */
  private readonly leasesTaken = new Map<string, number>();
  /** The replicas each app's last pass found, less those this reconciler removed since: by app uid, then id. */
  private readonly lastSeen = new Map<string, Map<string, Replica>>();
  /** Why the last sweep removed no orphan, when it would not believe the table (removeOrphans); logged once. */
  private refusedSweep: string | undefined;

  constructor(private readonly deps: ReconcilerDeps) {
    const nowMs = () => deps.clock.now().getTime();
    this.health = new HealthTracker(deps.probe, nowMs);
    this.failures = new StartFailures(nowMs);
    this.revisions = new AppRevisions(deps.store);
  }

  private now() {
    return this.deps.clock.now();
  }

  private event(app: AppRecord, type: AppEventType, message: string, details?: Record<string, unknown>) {
    return recordAppEvent(this.deps, app, type, message, details);
  }

  /**
   * One pass over one app. Says when to look again sooner than the next tick: soon while something is on its way
   * (replicas starting, probes pending, back-off running), and when a serving replica's next health probe falls due.
   */
  async reconcileApp(tenantId: string, name: string): Promise<PassOutcome> {
    const { store, runtime } = this.deps;
    const nowMs = this.now().getTime();
    // Each step waits only for what it needs: the lease, the app and its tenant at once (a pass that finds the lease
    // taken throws the reads away), then everything of the app's own at once.
    const lease = `reconcile/${tenantId}/${name}`;
    const [leased, app, tenant] = await Promise.all([
      this.takeLease(lease, nowMs),
      store.getApp(tenantId, name),
      store.getTenant(tenantId),
    ]);
    if (!app) this.leasesTaken.delete(lease);
    // What another reconciler did to the app meanwhile is not this one's to tell.
    if (!leased && app) this.lastSeen.delete(app.uid);
    if (!leased || !app) return { busy: false };
    const [latest, revision, listed] = await Promise.all([
      latestDeployment(this.deps, app),
      this.revisions.of(app),
      runtime.listReplicas({ appUid: app.uid }),
    ]);
    await this.tellRemovedOutside(app, listed);
    const replicas = await this.removeTouchedOutside(app, listed);
    // Each replica is checked as its own revision says: a rollout to a check that fails leaves the replicas it
    // replaces serving, as they pass theirs.
    const running = await this.revisions.ofReplicas(app, replicas);
    const probeInMs = await this.health.probeDue(
      app.uid,
      replicas,
      (r) => (running.get(r.revision) ?? revision).healthCheck ?? DEFAULT_HEALTH_CHECK,
    );
    this.failures.keepOnly(app.uid, replicas, [app.targetRevision, ...(latest ? [latest.revision] : [])]);

    const input: ReconcileInput = {
      app,
      tenantActive: tenant?.status === 'active',
      deployment: latest,
      replicas,
      health: (r) => this.health.health(r),
      history: (rev, slot) => this.failures.of(app.uid, rev, slot),
      nowMs,
    };
    // The replicas that failed since the last pass are counted before any is replaced, so that the back-off of a
    // slot holds back the very replacement of its failure: the plan is made again with them counted (what it
    // removes does not hang on the counts, only what it starts).
    const first = planReconcile(input);
    const failed = await this.countFailures(app, first.remove);
    const plan = failed.size > 0 ? planReconcile(input) : first;
    await this.deps.router.route(
      tenantId,
      name,
      plan.routable.flatMap((r) => (r.endpoint ? [r.endpoint] : [])),
    );
    await this.removeReplicas(app, plan, failed);
    const failedStarts = latest ? this.failedStarts(app, latest) : 0;
    // A deployment whose replicas tripped its breaker fails below: not one more of its revision is started first.
    const tripped = breakerTripped(app, latest, failedStarts);
    const started = tripped ? 0 : await this.startReplicas(app, revision, plan);
    await advanceRollout(this.deps, app, latest, {
      desired: plan.desired,
      readyTarget: plan.readyTarget,
      routable: plan.routable.length,
      servingRevision: servingRevisionOf(plan.routable, app.targetRevision),
      converged: plan.converged,
      failedStarts,
      lastFailure: latest && this.failures.lastFailure(app.uid, latest.revision),
      started: started > 0,
      tenant,
    });
    if (app.status === 'deleting')
      await this.finishDeletion(app, replicas.length - plan.remove.length + started);
    return { busy: plan.busy, ...(probeInMs === undefined ? {} : { probeInMs }) };
  }

  /**
   * Hands back every app's lease this reconciler holds, once its passes are done: a reconciler of another owner that
   * follows it (another machine's, or this one's under another hostname) then takes the apps at once, not when the
   * leases run out (LEASE_MS) — until then it could neither probe nor route their replicas. (One of the same owner
   * takes them at once anyway.)
   */
  async releaseLeases(): Promise<void> {
    const nowMs = this.now().getTime();
    const held = [...this.leasesTaken.keys()];
    this.leasesTaken.clear();
    await Promise.all(held.map((lease) => this.deps.store.releaseLease(lease, this.deps.owner, nowMs)));
  }

  /** Takes the app's lease for a pass, unless this reconciler took it moments ago (LEASE_COUNTED_ON_MS). */
  private async takeLease(lease: string, nowMs: number): Promise<boolean> {
    const takenAt = this.leasesTaken.get(lease);
    if (takenAt !== undefined && nowMs >= takenAt && nowMs - takenAt < LEASE_COUNTED_ON_MS) return true;
    const taken = await this.deps.store.acquireLease(lease, this.deps.owner, nowMs + LEASE_MS, nowMs);
    if (taken) this.leasesTaken.set(lease, nowMs);
    else this.leasesTaken.delete(lease);
    return taken;
  }

  /**
   * Tells of each replica the app's last pass found that is gone though this reconciler did not remove it: its
   * container was removed behind Berth's back (`docker rm -f`), and the plan starts another in its slot.
   */
  private async tellRemovedOutside(app: AppRecord, replicas: Replica[]) {
    const before = this.lastSeen.get(app.uid);
    this.lastSeen.set(app.uid, new Map(replicas.map((r) => [r.id, r])));
    const present = new Set(replicas.map((r) => r.id));
    for (const gone of before?.values() ?? []) {
      if (present.has(gone.id)) continue;
      await this.event(app, 'replicaRemoved', `replica ${gone.slot} is gone: it was removed outside Berth`, {
        replica: gone.id,
        revision: gone.revision,
      });
    }
  }

  /**
   * Removes each replica whose container was paused or stopped outside Berth (`docker pause`, `docker stop`), and
   * says so; the plan then starts another in its slot, as for one removed outside Berth, without counting a failure
   * of its revision. Returns the others.
   */
  private async removeTouchedOutside(app: AppRecord, replicas: Replica[]): Promise<Replica[]> {
    const touched = replicas.filter((r) => r.paused || r.stoppedOutside);
    for (const replica of touched) {
      await this.retire(replica, 0);
      const what = replica.stoppedOutside
        ? `was ${stoppedOutsideBerth(replica.stoppedOutside)}`
        : 'was paused outside Berth: Berth removed it';
      await this.event(app, 'replicaRemoved', `replica ${replica.slot} ${what}`, {
        replica: replica.id,
        revision: replica.revision,
        ...(replica.stoppedOutside ? { exitCode: replica.exitCode } : {}),
      });
    }
    return replicas.filter((r) => !touched.includes(r));
  }

  /**
   * Counts each replica the plan removes because it exited or failed its checks as a failed start of its slot (once
   * per replica, however many passes see it), and says how it failed: by replica id. A replica that failed its checks
   * is said also why nothing reached it, where the runtime can tell (an app listening on 127.0.0.1 inside it).
   */
  private async countFailures(
    app: AppRecord,
    remove: ReconcilePlan['remove'],
  ): Promise<Map<string, ReplicaFailure>> {
    const failed = new Map<string, ReplicaFailure>();
    for (const { replica, reason } of remove) {
      if (reason !== 'exited' && reason !== 'unhealthy') continue;
      // A replica that served for a while and then failed starts a fresh back-off, as Kubernetes does.
      if (this.health.wasStableFor(replica, STABLE_MS)) {
        this.failures.startOver(app.uid, replica.revision, replica.slot);
      }
      const lastProbe = reason === 'unhealthy' ? this.health.lastFailure(replica) : undefined;
      const unreachable = lastProbe && (await this.deps.runtime.unreachableBecause(replica));
      const probe = unreachable ? `${lastProbe}; ${unreachable}` : lastProbe;
      const what =
        reason === 'exited'
          ? exitedWith(replica.exitCode, replica.exitReason)
          : `failed its health checks${probe ? ` (${probe})` : ''}`;
      const history = this.failures.record(app.uid, replica, what, replica.id);
      failed.set(replica.id, { what, probe, failures: history.failures });
    }
    return failed;
  }

  /** Removes what the plan removes, each failed replica (see countFailures) with its events. */
  private async removeReplicas(app: AppRecord, plan: ReconcilePlan, failed: Map<string, ReplicaFailure>) {
    for (const { replica, reason } of plan.remove) {
      const failure = failed.get(replica.id);
      if (failure) {
        const { what, probe, failures } = failure;
        await this.event(
          app,
          reason === 'exited' ? 'replicaExited' : 'unhealthy',
          `replica ${replica.slot} ${what}`,
          {
            replica: replica.id,
            revision: replica.revision,
            exitCode: replica.exitCode,
            ...(replica.exitReason ? { reason: replica.exitReason } : {}),
            ...(probe ? { probe } : {}),
          },
        );
        if (failures === 3 && !this.health.health(replica).ready) {
          await this.event(
            app,
            'crashLoop',
            `replica ${replica.slot} of revision ${replica.revision} keeps failing`,
            { failures },
          );
        }
      }
      await this.retire(replica, reason === 'exited' ? 0 : this.deps.stopGraceSeconds);
    }
  }

  /** Starts the planned slots; returns how many started. */
  private async startReplicas(
    app: AppRecord,
    revision: RevisionRecord,
    plan: ReconcilePlan,
  ): Promise<number> {
    const { image, credentials: pullCredentials } = this.deps.pullOf(app.tenantId, pinnedImage(revision));
    const results = await Promise.all(
      plan.start.map(async (slot) => {
        try {
          await this.deps.runtime.startReplica({
            tenantId: app.tenantId,
            app: app.name,
            appUid: app.uid,
            revision: revision.number,
            generation: app.generation,
            slot,
            image,
            cpu: revision.cpu,
            memory: revision.memory,
            port: revision.port,
            command: revision.command,
            env: revision.env,
            ...(pullCredentials ? { pullCredentials } : {}),
          });
          return 1;
        } catch (err) {
          if (err instanceof ConflictError) return 0; // another reconciler started it
          if (isDomainError(err, 'unavailable')) throw err;
          const what = `could not start: ${(err as Error).message}`;
          this.failures.record(
            app.uid,
            { revision: revision.number, slot, generation: app.generation },
            what,
          );
          await this.event(app, 'replicaExited', `replica ${slot} ${what}`, {
            revision: revision.number,
          });
          return 0;
        }
      }),
    );
    return results.reduce<number>((a, b) => a + b, 0);
  }

  private failedStarts(app: AppRecord, deployment: DeploymentRecord): number {
    const failed = this.failures.failedFrom(app.uid, deployment.revision, generationOf(deployment));
    return Math.max(failed, deployment.failedStarts);
  }

  /**
   * Removes a deleting app's route and record once none of its replicas is left, and lets go of what this reconciler
   * kept of it: no pass over it comes again.
   */
  private async finishDeletion(app: AppRecord, live: number) {
    if (live > 0 || (await this.deps.runtime.listReplicas({ appUid: app.uid })).length > 0) return;
    await this.deps.router.remove(app.tenantId, app.name);
    await this.deps.store.finalizeAppDeletion(app);
    this.lastSeen.delete(app.uid);
    this.health.forget(app.uid);
    this.failures.forget(app.uid);
    this.revisions.forget(app.uid);
  }

  /** Stops a replica, tells the meter when it stopped, and only then removes it, so no second of it goes unbilled. */
  private async retire(replica: Replica, graceSeconds: number) {
    const seen = this.lastSeen.get(replica.appUid);
    seen?.delete(replica.id);
    if (seen?.size === 0) this.lastSeen.delete(replica.appUid);
    const stopped = await this.deps.runtime.stopReplica(replica.id, graceSeconds);
    const lifetime = stopped && lifetimeOf(stopped);
    if (lifetime) await this.deps.meter.observeLifetime(lifetime);
    await this.deps.runtime.removeReplica(replica.id);
  }

  /**
   * The platform-wide sweep: removes replicas whose app no longer exists (orphans), unless they are the installation's
   * apps mostly (mostlyOrphaned): the table is then not the one they were made from — another data directory, or
   * `BERTH_DYNAMODB_ENDPOINT`, with the same `BERTH_TABLE_NAME` — and it removes nothing, saying so once.
   */
  async removeOrphans(existingAppUids: ReadonlySet<string>): Promise<number> {
    const replicas = await this.deps.runtime.listReplicas();
    const orphans = replicas.filter((r) => !existingAppUids.has(r.appUid));
    const orphanApps = new Set(orphans.map((r) => r.appUid)).size;
    const heldApps = new Set(replicas.map((r) => r.appUid)).size;
    if (mostlyOrphaned(orphanApps, heldApps)) {
      const refused = `${orphanApps} of the ${heldApps} apps whose containers this installation runs have nothing in the table: so much gone at once says it is not the table they were made from (another data directory or DynamoDB with the same BERTH_TABLE_NAME), so none was removed; if this table is the one you mean, remove them yourself (docker rm -f on those labelled berth.installation)`;
      if (refused !== this.refusedSweep) this.deps.logger.error('orphans not removed', { refused });
      this.refusedSweep = refused;
      return 0;
    }
    this.refusedSweep = undefined;
    for (const orphan of orphans) await this.retire(orphan, this.deps.stopGraceSeconds);
    return orphans.length;
  }

  /** What the reconciler remembers of a replica, for the instances view. */
  replicaView(replica: Replica): ReplicaInsight {
    return {
      ...this.health.health(replica),
      restarts: this.failures.of(replica.appUid, replica.revision, replica.slot).failures,
    };
  }
}
