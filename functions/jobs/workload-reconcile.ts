import type { RuntimeName } from '../../schemas/app.ts';
import { exitedWith, recordAppEvent, stoppedOutsideBerth } from '../core/app-events.ts';
import { pinnedImage } from '../core/images.ts';
import { mapWithLimit } from '../core/map-with-limit.ts';
import { recordLifetimes } from '../core/metering.ts';
import { mostlyOrphaned } from '../core/orphan-valve.ts';
import type {
  AppRecord,
  HeldWorkload,
  ObservedWorkload,
  Replica,
  TenantRecord,
  WorkloadRuntime,
  WorkloadSpec,
} from '../core/ports.ts';
import { desiredReplicas } from '../core/reconcile-plan.ts';
import { allApps, listAll } from '../core/walk.ts';
import { workloadHash } from '../core/workloads.ts';
import { AppRevisions } from './app-revisions.ts';
import { PassLease } from './pass-lease.ts';
import { advanceRollout, latestDeployment, type RolloutDeps, servingRevisionOf } from './rollout.ts';

export interface WorkloadReconcilerDeps extends RolloutDeps {
  runtime: WorkloadRuntime;
  /** The runtime name apps choose to run here, e.g. `eks`. */
  runtimeName: RuntimeName;
  /** Who this reconciler is, for the per-tenant lease. */
  owner: string;
  /** Where an app whose pass failed is told of; the tenant's other apps go on. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

const LEASE_MS = 10_000;

/** How often what deleted tenants and apps left is looked for, whatever the number of workers asked to. */
export const SWEEP_EVERY_MS = 10 * 60_000;

/** Tenants a sweep reads at once. */
const SWEEP_READS = 8;
/** How recent a container's exit must be to be noted as an event: passes run every minute or sooner. */
const RESTART_EVENT_WINDOW_MS = 10 * 60_000;
/** Restarts noted in memory before the set starts again (each is idempotent to write again). */
const NOTED_RESTARTS_KEPT = 10_000;

/** What a sweep removed: how many deleted tenants' homes, and which orphaned workloads it stopped. */
export interface SweepResult {
  tenantHomes: number;
  orphans: HeldWorkload[];
  /** Why it removed nothing, when it found too much gone to trust the table (pastValve). */
  refused?: string;
}

/**
 * What a sweep will not believe: the runtime's workloads mostly without their app (mostlyOrphaned), or every one of its
 * tenant homes without its tenant (more than two). That says the table is the wrong one: the sweep then removes
 * nothing and says so.
 */
const pastValve = (orphans: number, held: number, goneHomes: number, homes: number) =>
  mostlyOrphaned(orphans, held) || (goneHomes > 2 && goneHomes === homes);

/** What one pass did, for the bench and the job's metrics. */
export interface WorkloadPass {
  apps: number;
  applied: number;
  released: number;
  /** Apps whose replicas the runtime cannot start (ObservedWorkload.notStarting). */
  notStarting: number;
}

/**
 * The reconcile job for apps on a workload runtime (Kubernetes Deployments, ECS services): per tenant, one
 * observation (its workloads and their replicas), then per app the desired workload applied only when its
 * fingerprint changed, and the latest deployment moved on from what the replicas show. The runtime rolls out; Berth
 * keeps the deadline, the circuit breaker (failed starts of the new revision) and the rollback, exactly as for
 * replica runtimes.
 */
export class WorkloadReconciler {
  /** The restarts this worker has noted (noteRestarts), by replica and restart count. */
  private readonly notedRestarts = new Set<string>();
  private readonly revisions: AppRevisions;

  constructor(private readonly deps: WorkloadReconcilerDeps) {
    this.revisions = new AppRevisions(deps.store);
  }

  /**
   * A pass over the tenant's apps here. Given `askedAt` (ms; when a message asked for it), none when a pass that
   * began since then covers it: a backed-up queue then costs one pass per tenant, not one per message. An ask that
   * comes while a pass runs has the running one go once more at its end.
   */
  async reconcileTenant(tenantId: string, askedAt?: number): Promise<WorkloadPass> {
    const pass: WorkloadPass = { apps: 0, applied: 0, released: 0, notStarting: 0 };
    const lease = new PassLease(this.deps, `reconcile-workloads/${tenantId}`, LEASE_MS);
    if (!(await lease.take(askedAt))) return pass;
    // A pass that fails keeps the lease until it expires; its message's retry runs regardless of passes since.
    do await this.passOver(tenantId, lease, pass);
    while (await lease.release());
    return pass;
  }

  /**
   * At most once every SWEEP_EVERY_MS across all workers, removes what the runtime keeps for what no longer exists:
   * the homes of deleted tenants (a tenant's deletion leaves its namespace to this), then workloads whose app is
   * gone (a pass that lost its lease applying one after the app's deletion finished, or a table that lost the app).
   * Both are listed before the table is read, and passes make them only for tenants and apps that exist then, so
   * nothing live is taken — but for a tenant deleted and created again under its id meanwhile, whose next passes
   * make its home again. Before removing anything, it lets go of the stopped replicas no pass will
   * (releaseUnclaimed): those of what an earlier sweep removed, whose pods have stopped since.
   */
  async sweep(): Promise<SweepResult> {
    const { store, clock, runtime, runtimeName, owner } = this.deps;
    const nowMs = clock.now().getTime();
    // An owner of its own: the same worker asking again within the period must not renew the lease, but wait.
    const taken = await store.acquireLease(
      `sweep-tenant-homes/${runtimeName}`,
      `${owner}@${nowMs}`,
      nowMs + SWEEP_EVERY_MS,
      nowMs,
    );
    if (!taken) return { tenantHomes: 0, orphans: [] };
    const { homes, workloads: held } = await runtime.holdings();
    const stopped = (await runtime.listReplicas()).filter((r) => r.state === 'exited');
    const gone = await mapWithLimit(homes, SWEEP_READS, async (id) => !(await store.getTenant(id)));
    const goneHomes = homes.filter((_, i) => gone[i]);
    const kept = held.filter((w) => !goneHomes.includes(w.tenantId));
    // Each tenant's apps read once, for what is orphaned and for what no pass will release.
    const appsOf = await this.appsOf([...kept, ...stopped].map((w) => w.tenantId));
    const orphans = this.orphansAmong(kept, appsOf);
    if (pastValve(orphans.length, held.length, goneHomes.length, homes.length)) {
      const refused = `${goneHomes.length} of ${homes.length} tenant homes and ${orphans.length} of ${held.length} workloads on ${runtimeName} have nothing in the table: so much gone at once says it is not the table they were made from, so nothing was removed`;
      return { tenantHomes: 0, orphans: [], refused };
    }
    // First, so that a failure here stops the sweep before it removes anything it would then not report.
    await this.releaseUnclaimed(stopped, appsOf);
    for (const tenantId of goneHomes) await runtime.removeTenant(tenantId);
    const removed: HeldWorkload[] = [];
    for (const { workload, routeFree } of orphans) {
      if (await runtime.removeOrphan(workload, routeFree)) removed.push(workload);
    }
    return { tenantHomes: goneHomes.length, orphans: removed };
  }

  /**
   * Lets go of the stopped replicas no pass will: those of tenants with no app here (an orphan's, stopped by a sweep
   * after its tenant's last app here was gone; one left in a deleted tenant's home). On EKS their metering finalizer
   * would otherwise hold them, and a deleted tenant's namespace with them, for ever. Their stops are recorded first
   * where the tenant still exists.
   */
  private async releaseUnclaimed(stopped: Replica[], appsOf: Map<string, AppRecord[]>): Promise<void> {
    const { store, meter, runtime, runtimeName } = this.deps;
    const unclaimed = [...Map.groupBy(stopped, (r) => r.tenantId)].filter(
      ([tenantId]) => !appsOf.get(tenantId)?.some((a) => a.spec.runtime === runtimeName),
    );
    await mapWithLimit(unclaimed, SWEEP_READS, async ([tenantId, replicas]) => {
      if (await store.getTenant(tenantId)) await recordLifetimes(meter, tenantId, replicas);
      for (const replica of replicas) await runtime.releaseReplica(replica);
    });
  }

  /** The apps of each of these tenants, read SWEEP_READS tenants at a time. */
  private async appsOf(tenantIds: string[]): Promise<Map<string, AppRecord[]>> {
    const read = await mapWithLimit(
      [...new Set(tenantIds)],
      SWEEP_READS,
      async (tenantId) => [tenantId, await listAll(allApps(this.deps.store, tenantId))] as const,
    );
    return new Map(read);
  }

  /**
   * The workloads no app of their tenant is an incarnation of; each with whether an app of its name runs here (its
   * route and objects are then that app's).
   */
  private orphansAmong(held: HeldWorkload[], appsOf: Map<string, AppRecord[]>) {
    return held.flatMap((workload) => {
      const apps = appsOf.get(workload.tenantId) ?? [];
      if (apps.some((a) => a.name === workload.app && a.uid.endsWith(workload.incarnation))) return [];
      const routeFree = !apps.some(
        (a) => a.name === workload.app && a.spec.runtime === this.deps.runtimeName,
      );
      return [{ workload, routeFree }];
    });
  }

  /** One pass over the tenant's apps here, adding what it did to `pass`; it stops early if the lease is lost. */
  private async passOver(tenantId: string, lease: PassLease, pass: WorkloadPass): Promise<void> {
    const { store, runtime } = this.deps;
    const tenant = await store.getTenant(tenantId);
    const plan = tenant && (await store.getPlan(tenant.plan));
    if (!tenant || !plan) return;
    const apps: AppRecord[] = [];
    for await (const app of allApps(store, tenantId)) {
      if (app.spec.runtime === this.deps.runtimeName) apps.push(app);
    }
    if (apps.length === 0) return;
    await runtime.ensureTenant(tenantId, plan.limits);
    const { workloads, replicas } = await runtime.observe(tenantId, apps);
    await recordLifetimes(this.deps.meter, tenantId, replicas);
    pass.released += await this.release(apps, replicas);
    await this.noteRestarts(apps, replicas);
    // One app's failure (a workload the cluster refuses, a write the table refuses) holds up none of the others; the
    // pass fails after them all, so its message is retried (and ends in the dead-letter queue if it keeps failing).
    const failed: string[] = [];
    for (const app of apps) {
      if (!(await lease.keep())) break;
      pass.apps += 1;
      const live = replicas.filter((r) => r.appUid === app.uid && r.state !== 'exited');
      const workload = workloads.find((w) => w.app === app.name);
      // Most often the operator's to mend (the account's Fargate quota, the subnets' addresses): told at each pass
      // while it lasts, and counted, where the tenant is told only when the deployment fails by it.
      if (workload?.notStarting) {
        pass.notStarting += 1;
        this.deps.logger.error('the runtime cannot start an app', {
          tenantId,
          app: app.name,
          why: workload.notStarting,
        });
      }
      try {
        if (await this.reconcileApp(app, tenant, workload, live)) pass.applied += 1;
      } catch (error) {
        failed.push(app.name);
        this.deps.logger.error('could not reconcile an app', { tenantId, app: app.name, error });
      }
    }
    if (failed.length > 0) {
      throw new Error(`the pass over tenant "${tenantId}" failed for ${failed.join(', ')} (each is logged)`);
    }
  }

  /**
   * Lets the runtime forget the exited replicas (their stops are recorded by then), noting the failed ones — those
   * that exited by themselves, not on request (a pod a rollout or scale-in deleted exits 143 on SIGTERM, or 137 at the
   * end of its grace, as an ECS task stopped by its service does, which is no failure either) — and those stopped
   * outside Berth (evicted, preempted), as `replicaRemoved`. Once each, however many passes see it (a pod the kubelet
   * ended stays listed until it is deleted).
   */
  private async release(apps: AppRecord[], replicas: Replica[]): Promise<number> {
    let released = 0;
    for (const replica of replicas) {
      if (replica.state !== 'exited') continue;
      const app = apps.find((a) => a.uid === replica.appUid);
      const outside = replica.stoppedOutside;
      const failed = replica.exitCode !== null && replica.exitCode !== 0 && !replica.stopRequested;
      if (app && (outside || failed)) {
        await recordAppEvent(
          this.deps,
          app,
          outside ? 'replicaRemoved' : 'replicaExited',
          `pod ${outside ? stoppedOutsideBerth(outside) : exitedWith(replica.exitCode, replica.exitReason)}`,
          {
            replica: replica.id,
            revision: replica.revision,
            exitCode: replica.exitCode,
            ...(replica.exitReason ? { reason: replica.exitReason } : {}),
          },
          { at: new Date(replica.stoppedAt ?? replica.createdAt), of: `${replica.id} exit` },
        );
      }
      await this.deps.runtime.releaseReplica(replica);
      released += 1;
    }
    return released;
  }

  /**
   * Notes each recent exit of a container the runtime restarted in place (Kubernetes: a crash, an OOM kill) as an
   * event of its app, once: keyed by the replica and its restart count, and skipped once this worker has written it.
   * Exits older than RESTART_EVENT_WINDOW_MS are left: the passes since saw them.
   */
  private async noteRestarts(apps: AppRecord[], replicas: Replica[]): Promise<void> {
    const nowMs = this.deps.clock.now().getTime();
    for (const replica of replicas) {
      const exit = replica.lastExit;
      const app = apps.find((a) => a.uid === replica.appUid);
      if (!exit || !app || nowMs - Date.parse(exit.at) > RESTART_EVENT_WINDOW_MS) continue;
      const key = `${replica.id} restart ${replica.restarts ?? 0}`;
      if (this.notedRestarts.has(key)) continue;
      await recordAppEvent(
        this.deps,
        app,
        'replicaExited',
        `pod ${exitedWith(exit.exitCode, exit.reason)} and was restarted`,
        {
          replica: replica.id,
          revision: replica.revision,
          exitCode: exit.exitCode,
          ...(exit.reason ? { reason: exit.reason } : {}),
          restarts: replica.restarts,
        },
        { at: new Date(exit.at), of: key },
      );
      this.notedRestarts.add(key);
      if (this.notedRestarts.size > NOTED_RESTARTS_KEPT) this.notedRestarts.clear();
    }
  }

  /** One app's pass; true when its workload was applied. */
  private async reconcileApp(
    app: AppRecord,
    tenant: TenantRecord,
    workload: ObservedWorkload | undefined,
    live: Replica[],
  ): Promise<boolean> {
    const { store, runtime } = this.deps;
    if (app.status === 'deleting') {
      const gone = await runtime.deleteWorkload(app.tenantId, app);
      if (gone && !workload && live.length === 0) {
        await store.finalizeAppDeletion(app);
        this.revisions.forget(app.uid);
      }
      return false;
    }
    const [latest, revision] = await Promise.all([latestDeployment(this.deps, app), this.revisions.of(app)]);
    const desired = desiredReplicas({ app, tenantActive: tenant.status === 'active', deployment: latest });
    const spec: WorkloadSpec = {
      tenantId: app.tenantId,
      app: app.name,
      appUid: app.uid,
      revision: revision.number,
      generation: app.generation,
      image: pinnedImage(revision),
      cpu: revision.cpu,
      memory: revision.memory,
      port: revision.port,
      command: revision.command,
      env: revision.env,
      healthCheck: revision.healthCheck,
      replicas: desired,
      restartedAt: app.restartedAt,
      ...(revision.imagePlatforms ? { platforms: revision.imagePlatforms } : {}),
    };
    const hash = workloadHash(spec);
    // An app whose deployment failed before anything of it was applied (its first revision refused) has nothing to
    // run and nothing to keep: applying it again would only be refused again, pass after pass.
    const neverApplied = !workload && desired === 0 && latest?.status === 'failed';
    const apply = !neverApplied && workload?.specHash !== hash;
    const refused = apply ? (await runtime.applyWorkload(spec))?.refused : undefined;
    // The deployment it fails is the tenant's to see; the operator is told too, should the refusal be Berth's (once:
    // a refused first revision is then never applied, a later one rolled back).
    if (refused)
      this.deps.logger.error('the runtime refused an app', {
        tenantId: app.tenantId,
        app: app.name,
        refused,
      });
    // The runtime's verdict counts only for the spec it was given; a spec it refused fails at once.
    const verdict = refused ?? (apply ? undefined : workload?.rolloutFailure);

    const counts = replicaCounts(live, app.targetRevision, workload?.steady);
    await advanceRollout(this.deps, app, latest, {
      desired,
      readyTarget: counts.readyTarget,
      routable: counts.routable,
      servingRevision: counts.servingRevision,
      converged: counts.readyTarget >= desired && counts.live === counts.target && counts.target === desired,
      failedStarts: counts.failedStarts,
      started: counts.target > 0,
      ...(verdict ? { runtimeFailure: verdict } : {}),
      ...(workload?.notStarting ? { notStarting: workload.notStarting } : {}),
      tenant,
    });
    return apply && refused === undefined;
  }
}

/**
 * Whether a replica takes its app's traffic: ready, and not stopping (a pod being deleted stays ready to the kubelet
 * through its grace, but is out of its Service's endpoints).
 */
const serving = (replica: Replica) => replica.ready === true && !replica.stopping;

/**
 * What a rollout goes by: the replicas (of the target revision, and how many of those serve), those serving of any
 * revision, and the target's failed starts — counted from the listed replicas, or taken from a workload the runtime
 * vouches is at rest.
 */
function replicaCounts(live: Replica[], targetRevision: number, steady: ObservedWorkload['steady']) {
  if (steady) {
    const target = steady.revision === targetRevision ? steady.replicas : 0;
    return {
      live: steady.replicas,
      target,
      readyTarget: target,
      routable: steady.replicas,
      servingRevision: steady.replicas > 0 ? servingRevisionOf([steady], targetRevision) : undefined,
      failedStarts: 0,
    };
  }
  const target = live.filter((r) => r.revision === targetRevision);
  const routable = live.filter(serving);
  return {
    live: live.length,
    target: target.length,
    readyTarget: target.filter(serving).length,
    routable: routable.length,
    servingRevision: servingRevisionOf(routable, targetRevision),
    failedStarts: target.reduce((sum, r) => sum + (r.restarts ?? 0), 0),
  };
}
