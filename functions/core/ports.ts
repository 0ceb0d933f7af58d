import type { Role } from '../../schemas/api-key.ts';
import type {
  AppStatus,
  Deployment,
  HealthCheck,
  Revision,
  RevisionSpec,
  Scaling,
} from '../../schemas/app.ts';
import type { BillingReport, PriceTable } from '../../schemas/billing.ts';
import type { Page } from '../../schemas/common.ts';
import type { OfferedSizes } from '../../schemas/fargate-sizes.ts';
import type { Plan, PlanLimits } from '../../schemas/plan.ts';
import type { Image, RegistryLogin, Repository } from '../../schemas/repository.ts';
import type { Tenant } from '../../schemas/tenant.ts';

/** What a tenant holds against its plan: apps, and vCPU/memory of all desired replicas. */
export interface Reservation {
  apps: number;
  /** Thousandths of a vCPU, so sums stay exact integers. */
  vcpuMilli: number;
  memoryMiB: number;
}

export interface TenantRecord extends Tenant {
  reserved: Reservation;
  /** When an admin last reactivated the tenant; absent if never suspended. */
  resumedAt?: string;
}

/**
 * What is left of a tenant deleted at `deletedAt`: its usage until then is billed all the same (its lifetimes are
 * metered to their end, and its reports built, for the months it was there).
 */
export interface DeletedTenant {
  id: string;
  createdAt: string;
  deletedAt: string;
}

/** A tenant whose usage is billed: one there, or one deleted. */
export type BilledTenant = TenantRecord | DeletedTenant;

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  /** What the key is for, as its maker named it. */
  name: string | null;
  /** Stored keys are tenant keys; the bootstrap admin key is configuration, never a record. */
  role: Extract<Role, 'tenant'>;
  prefix: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface AppRecord {
  tenantId: string;
  name: string;
  /** Unique per incarnation of the name, so a re-created app never sees an older one's revisions. */
  uid: string;
  spec: RevisionSpec;
  replicas: number;
  scaling: Scaling | null;
  status: AppStatus;
  readyReplicas: number;
  /** The newest revision. */
  latestRevision: number;
  /** The revision the app should run: the latest deployment's, which a rollback points back in time. */
  targetRevision: number;
  /** The revision serving traffic; null until a deployment succeeds. */
  currentRevision: number | null;
  /** Replicas created before this instant are replaced (a rolling restart); null when never restarted. */
  restartedAt: string | null;
  generation: number;
  observedGeneration: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type RevisionRecord = Omit<Revision, 'imagePlatforms'> & {
  tenantId: string;
  appUid: string;
  /** Absent from revisions made before Berth read images' platforms. */
  imagePlatforms?: Revision['imagePlatforms'];
};
export type DeploymentRecord = Deployment & { tenantId: string; appUid: string };
/**
 * A repository as recorded. `pending` while a registry that makes repositories elsewhere (ECR) has not confirmed
 * it: recorded first, so neither a retry nor the tenant's deletion loses track of what the registry may have made.
 */
export type RepositoryRecord = Repository & { pending?: boolean };

/** The plan terms a write was checked against; the store makes the check atomic with the write. */
export interface QuotaCheck {
  plan: Plan;
  /** Change of the tenant's reservation; only increases are checked against the limits. */
  delta: Reservation;
  /** The write only gives back (an app's deletion): a suspended tenant may make it too. */
  evenIfSuspended?: boolean;
  /**
   * The write gives the app back what it ran (the platform's rollback of a failed deployment), which runs still: the
   * plan's limits and the month's cap do not refuse it.
   */
  restores?: boolean;
}

/** One atomic write of an app together with what it brings: a new revision, a deployment, a quota change. */
export interface AppWrite {
  app: AppRecord;
  revision?: RevisionRecord;
  deployment?: DeploymentRecord;
  /** What the change did, as an event of the app, written with it or not at all. */
  event?: AppEventRecord;
  /**
   * A deployment the change ends (the platform's rollback ends the failed one), written if the stored deployment is
   * still `read`.
   */
  ended?: { record: DeploymentRecord; read: DeploymentRecord };
  quota: QuotaCheck;
}

/** What one reconcile pass writes of an app and its latest deployment (see Store.writeRollout). */
export interface RolloutWrite {
  /** The app as the pass observed it, and as it read it: written only while the stored app is still `read`. */
  app?: { record: AppRecord; read: AppRecord };
  /** The latest deployment as the pass moved it on, and as it read it: written only while the stored one is `read`. */
  deployment?: { record: DeploymentRecord; read: DeploymentRecord };
  /** What the pass saw happen (a deployment's end, a suspension), as the app's events: there exactly when it is. */
  events?: AppEventRecord[];
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'running' | 'done';
  /** When a `running` claim is considered abandoned (its process died) and may be taken over. */
  lockedUntil: number;
  response?: StoredResponse;
}

/**
 * Metered usage of one app in one UTC hour, in exact integers: thousandths of a vCPU-second and MiB-seconds, so
 * sums never drift.
 */
export interface UsageRecord {
  tenantId: string;
  app: string;
  /** `YYYY-MM-DDTHH`, the UTC hour the seconds fell in. */
  hour: string;
  vcpuMilliSeconds: number;
  memoryMiBSeconds: number;
  instanceSeconds: number;
  /**
   * What instances that started in this hour and lived less than a minute fell short of one minute, in the same
   * units — billed only when the price table has Fargate's 1-minute minimum.
   */
  shortfallVcpuMilliSeconds: number;
  shortfallMemoryMiBSeconds: number;
  shortfallInstanceSeconds: number;
}

/**
 * One replica's life as the meter knows it, in whole epoch seconds: usage before `meteredSec` is in the usage rows;
 * it is open until the meter has accrued it up to `stoppedSec`.
 */
export interface LifetimeRecord {
  tenantId: string;
  instanceId: string;
  app: string;
  /** vCPU and MiB billed: the replica's own size. */
  cpu: number;
  memoryMiB: number;
  startedSec: number;
  stoppedSec: number | null;
  meteredSec: number;
}

/** Where the meter keeps lifetimes and the billing reports (AWS and local: the table). */
export interface MeterStore {
  /**
   * Records a lifetime the first time it is seen (never again once closed), and its stop when it is first known.
   */
  observeLifetime(lifetime: LifetimeRecord): Promise<void>;
  listOpenLifetimes(tenantId: string): Promise<LifetimeRecord[]>;
  /**
   * Adds `usage` and moves the lifetime's watermark to `toSec` (closing it when `close`), atomically and only if
   * the lifetime is still as read; false when another meter got there first.
   */
  accrueLifetime(
    lifetime: LifetimeRecord,
    toSec: number,
    usage: UsageRecord[],
    close: boolean,
  ): Promise<boolean>;
  putReport(report: BillingReport): Promise<void>;
  getReport(tenantId: string, period: string): Promise<BillingReport | undefined>;
  /** The last month (`YYYY-MM`) whose every report, and every earlier month's, the report job found final. */
  reportsFinalThrough(): Promise<string | undefined>;
  /** Records `period` as reportsFinalThrough, unless a later month is recorded already. */
  markReportsFinalThrough(period: string): Promise<void>;
  /**
   * The price table a month (`YYYY-MM`) is billed by: the first one given for it, which `prices` becomes if none is
   * yet. It never changes once kept, so a table deployed later never reprices the month.
   */
  monthPrices(period: string, prices: PriceTable): Promise<PriceTable>;
}

/** What the autoscaler keeps of an app between runs. */
export interface ScalerState {
  /** Its recent recommendations (epoch ms and replica count), oldest first. */
  recommendations: { at: number; replicas: number }[];
  /** What held the last decision's scale out back (`the maximum is 4`), while something does. */
  heldBy?: string;
}

/** Where a tenant stands against its plan's monthly caps, as the meter last found it. */
export interface UsageCapState {
  period: string;
  level: 'ok' | 'warned' | 'exceeded';
  costMicroUsd: number;
  instanceSeconds: number;
}

/** Paging arguments of every list method. */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The control plane's state. Every tenant-owned record is addressed by tenant id first. Writes that can race are
 * conditional: one that finds its record (or the tenant or plan it was checked against) changed since it was read
 * throws WriteConflictError; a quota check that fails throws QuotaExceededError; a suspended tenant's write throws
 * ForbiddenError('tenant.suspended').
 */
export interface Store {
  createPlan(plan: Plan): Promise<void>;
  getPlan(id: string): Promise<Plan | undefined>;
  listPlans(page: PageRequest): Promise<Page<Plan>>;
  updatePlan(plan: Plan, expectedVersion: number): Promise<void>;

  /** Adds a tenant and its first key; ConflictError('tenant.exists') when a tenant has, or a deleted one had, its id. */
  createTenant(tenant: TenantRecord, firstKey: ApiKeyRecord): Promise<void>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  listTenants(page: PageRequest): Promise<Page<TenantRecord>>;
  /** The tenant there with the id, else what is left of a deleted one (its usage is billed all the same). */
  getBilledTenant(id: string): Promise<BilledTenant | undefined>;
  /** Every tenant that may have usage to bill: those there, then the deleted ones, by id. */
  listBilledTenants(page: PageRequest): Promise<Page<BilledTenant>>;
  /** Writes name, plan and status; never the reservation, which only app writes change. */
  updateTenant(tenant: TenantRecord, expectedVersion: number): Promise<void>;
  /**
   * Deletes the tenant and all its keys; ConflictError('tenant.hasApps') while it has apps. Returns the keys' hashes,
   * so in-process caches can forget them at once. Its id is never used again: its usage, instance lifetimes and
   * reports stay under it, for billing, and a tenant created with it would inherit them (and be billed for them).
   */
  deleteTenant(tenant: TenantRecord, deletedAt: string): Promise<string[]>;

  /**
   * Adds a key unless its tenant is not there (TenantNotFoundError) or already holds `maxPerTenant`
   * (QuotaExceededError), atomically with the count, so parallel creates never pass the limit and a tenant's deletion
   * never misses a key created meanwhile.
   */
  createApiKey(key: ApiKeyRecord, maxPerTenant: number): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>>;
  /**
   * Deletes a key; undefined when there is none. With `keep`, only while that key still exists, in the same
   * transaction (DomainError('auth.invalidKey') otherwise): two keys revoking each other never leave a tenant none.
   */
  deleteApiKey(tenantId: string, keyId: string, keep?: string): Promise<ApiKeyRecord | undefined>;
  touchApiKey(key: ApiKeyRecord, at: string): Promise<void>;

  /** Creates the app with its first revision and deployment; ConflictError('app.exists') if the name is taken. */
  createApp(write: AppWrite): Promise<void>;
  /**
   * Writes a change of the app `read`, if the stored app is still exactly that: changed since in any way (by a change,
   * or by a reconcile pass, which keeps the version), WriteConflictError and nothing is written.
   */
  updateApp(write: AppWrite & { read: AppRecord }): Promise<void>;
  getApp(tenantId: string, name: string): Promise<AppRecord | undefined>;
  listApps(tenantId: string, page: PageRequest): Promise<Page<AppRecord>>;

  getRevision(tenantId: string, appUid: string, revision: number): Promise<RevisionRecord | undefined>;
  /** Newest first, as written: a revision just made is listed (a strongly consistent read). */
  listRevisions(tenantId: string, appUid: string, page: PageRequest): Promise<Page<RevisionRecord>>;
  getDeployment(tenantId: string, appUid: string, id: string): Promise<DeploymentRecord | undefined>;
  /** Newest first. */
  listDeployments(tenantId: string, appUid: string, page: PageRequest): Promise<Page<DeploymentRecord>>;

  /**
   * Writes what a reconcile pass observed, all or nothing: the app's status fields and its latest deployment, each on
   * condition the stored record is still the one the pass read (a change, or another pass that outlived its lease,
   * since: not written over). False when a condition failed and nothing was written.
   */
  writeRollout(write: RolloutWrite): Promise<boolean>;
  /**
   * Removes an app whose replicas are all gone (the end of a deletion) and gives its reservation back, on condition
   * the stored app is still that incarnation at that version (WriteConflictError otherwise: finalized already, or an
   * app made again under its name).
   */
  finalizeAppDeletion(app: AppRecord): Promise<void>;
  /** Writes a deployment on condition the stored one is still `read`; false when it was not. */
  updateDeployment(deployment: DeploymentRecord, read: DeploymentRecord): Promise<boolean>;
  /** Writes an app's event; one with the same id is replaced. */
  addAppEvent(event: AppEventRecord): Promise<void>;
  getUsageCapState(tenantId: string): Promise<UsageCapState | undefined>;
  /** Writes the state only if the stored one is still `expected` (undefined: none); false otherwise. */
  putUsageCapState(
    tenantId: string,
    state: UsageCapState,
    expected: UsageCapState | undefined,
  ): Promise<boolean>;
  /** The autoscaler's memory of one app: its recent recommendations, for the scale-in window. */
  getScalerState(tenantId: string, appUid: string): Promise<ScalerState | undefined>;
  putScalerState(tenantId: string, appUid: string, state: ScalerState): Promise<void>;
  /** Newest first. */
  listAppEvents(tenantId: string, appUid: string, page: PageRequest): Promise<Page<AppEventRecord>>;
  /**
   * Takes or renews a lease named `name` for `owner` until `untilMs`; false while another owner holds an
   * unexpired one, and — given `unlessTakenSince` (ms) — when it was last taken at or after that time. Reconcilers
   * take one per app or tenant, so two never act on it at once, and a pass asked for at some time is skipped when
   * one that began since then covers it.
   */
  acquireLease(
    name: string,
    owner: string,
    untilMs: number,
    nowMs: number,
    unlessTakenSince?: number,
  ): Promise<boolean>;
  /**
   * Asks the holder of an unexpired lease for another pass once its own ends — unless, given `askedAt` (ms), it was
   * taken at or after then (the running pass covers the ask). False when no such holder is there to ask.
   */
  askLeaseAgain(name: string, nowMs: number, askedAt?: number): Promise<boolean>;
  /** Extends `owner`'s lease to `untilMs`, keeping when it was taken; false when another owner holds it now. */
  renewLease(name: string, owner: string, untilMs: number): Promise<boolean>;
  /**
   * Ends `owner`'s pass. If another pass was asked for meanwhile and `againUntilMs` is given, keeps the lease until
   * then, taken at `nowMs`, and answers true: the caller runs that pass. Otherwise frees the lease (an ask not run
   * stays recorded for whoever takes it next) and answers false; false too when the lease is no longer the owner's.
   */
  releaseLease(name: string, owner: string, nowMs: number, againUntilMs?: number): Promise<boolean>;

  /**
   * Records a repository; false when it already exists. QuotaExceededError when its tenant already keeps
   * `maxPerTenant` (counted atomically with the record, so parallel creates never pass it), NotFoundError when the
   * tenant is gone.
   */
  createRepository(tenantId: string, repository: RepositoryRecord, maxPerTenant: number): Promise<boolean>;
  /** Marks a pending repository made; false when it is not pending (made already, or gone). */
  completeRepository(tenantId: string, name: string): Promise<boolean>;
  /** A tenant's repositories by name, pending ones included. */
  listRepositories(tenantId: string): Promise<RepositoryRecord[]>;
  getRepository(tenantId: string, name: string): Promise<RepositoryRecord | undefined>;
  /** Records a pushed manifest; a tag moves to the newest digest pushed under it. */
  recordImagePush(tenantId: string, repository: string, image: Image): Promise<void>;
  listImages(tenantId: string, repository: string): Promise<Image[]>;
  /** Forgets a repository and its images; false when there was none. */
  deleteRepository(tenantId: string, repository: string): Promise<boolean>;

  /** A page of a tenant's usage rows for the hours in [fromHour, toHour], by hour and then app. */
  listUsage(
    tenantId: string,
    fromHour: string,
    toHour: string,
    page: PageRequest,
  ): Promise<Page<UsageRecord>>;

  /** Takes the key for a request, or returns what already holds it. */
  claimIdempotencyKey(
    scope: string,
    key: string,
    claim: { fingerprint: string; lockedUntil: number; expiresAt: number },
    nowSeconds: number,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }>;
  completeIdempotencyKey(scope: string, key: string, response: StoredResponse): Promise<void>;
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;

  /**
   * Counts `requests` of a caller (a tenant, or the admin) in the rate-limit window that starts at `windowStart`
   * (ms) and returns the window's count so far, these included; the count may be removed after `expiresAt` (s).
   */
  countRequest(caller: string, windowStart: number, expiresAt: number, requests: number): Promise<number>;
}

/** Credentials a runtime uses to pull a tenant's image from a private registry. */
export interface PullCredentials {
  registry: string;
  username: string;
  password: string;
}

/** Whose replica it is and which: the app, the revision and generation it runs, its slot. */
export interface ReplicaIdentity {
  tenantId: string;
  app: string;
  appUid: string;
  revision: number;
  generation: number;
  /** 0..replicas-1; with the revision it names the replica, so a duplicate start fails at the runtime. */
  slot: number;
}

/** One replica to start: everything a runtime needs, nothing runtime-specific. */
export interface ReplicaSpec extends ReplicaIdentity {
  /** The image to run, pinned to a digest where one is known. */
  image: string;
  cpu: number;
  memory: number;
  port: number;
  command: string[] | null;
  env: Record<string, string>;
  pullCredentials?: PullCredentials;
}

export type ReplicaState = 'pending' | 'running' | 'exited';

/** A replica as the runtime reports it (a container, an ECS task, a pod). */
export interface Replica extends ReplicaIdentity {
  id: string;
  state: ReplicaState;
  /** The size it runs with: vCPU and MiB. */
  cpu: number;
  memoryMiB: number;
  createdAt: string;
  /** When it started (for metering: from here); null before. */
  startedAt: string | null;
  stoppedAt: string | null;
  exitCode: number | null;
  /** Why it exited beyond its code, where the runtime says: `OOMKilled`, or the engine's error starting it. */
  exitReason?: string;
  /**
   * It was stopped on request — replaced, scaled in, deleted or evicted (Kubernetes: the pod was deleted; ECS: the
   * task's stop code) — rather than exiting by itself, where the runtime tells the two apart: its exit code (a
   * SIGTERM's 143) is no failure of its own.
   */
  stopRequested?: boolean;
  /**
   * Asked to stop and not stopped yet: out of its app's traffic, finishing its requests within its grace (ECS: its
   * task's desired status is STOPPED; Kubernetes: its pod is being deleted; Docker: this process is stopping it).
   */
  stopping?: boolean;
  /**
   * Why it was stopped by neither Berth nor itself, where the runtime says: Kubernetes' words for a pod evicted (its
   * node drained or under pressure), preempted, or deleted for its node's taint; the signal the engine sent a
   * container for someone else (`docker stop`). Told as `replicaRemoved`, no failure.
   */
  stoppedOutside?: string;
  /**
   * Its processes are frozen (`docker pause`), which nothing of Berth's does: it can neither serve nor fail a check
   * that its port accepts connections, so it would hold its slot for good.
   */
  paused?: boolean;
  /** Where the app's port answers, once running. */
  endpoint: { host: string; port: number } | null;
  /** The runtime's own readiness verdict, where the runtime probes (Kubernetes); absent where Berth probes. */
  ready?: boolean;
  /** Restarts of the replica's container in place, where the runtime restarts them (Kubernetes). */
  restarts?: number;
  /** How its container last exited before such a restart, where the runtime says. */
  lastExit?: { exitCode: number; reason: string | null; at: string };
}

/**
 * Which replicas to list: all, a tenant's, or an app's (by its uid; with its name too, for a runtime that finds an
 * app's replicas by name).
 */
export interface ReplicaFilter {
  tenantId?: string;
  appUid?: string;
  app?: string;
}

export interface ReplicaStats {
  /** CPU used relative to the replica's own limit, 0-100. */
  cpuPercent: number;
  memoryMiB: number;
  /** Memory used relative to the replica's own limit, 0-100. */
  memoryPercent: number;
}

/** One of a replica's figures, as a caller may ask for some of them only. */
export type ReplicaFigure = keyof ReplicaStats;

export interface LogOptions {
  tail?: number;
  since?: Date;
  follow?: boolean;
  signal?: AbortSignal;
}

/**
 * Where replicas run: Docker locally, ECS Fargate or Kubernetes on AWS. Replicas are found by their tenant and
 * app labels/tags, so a restarted control plane adopts what runs instead of duplicating it.
 */
export interface Runtime {
  listReplicas(filter?: ReplicaFilter): Promise<Replica[]>;
  /** Starts a replica; ConflictError('conflict') when one with the same app, revision, generation and slot exists. */
  startReplica(spec: ReplicaSpec): Promise<Replica>;
  /**
   * Stops a replica (SIGTERM, then SIGKILL after the grace period) and reports it as stopped, with its stop time;
   * undefined when it is gone. The replica stays listed until removed, so its end is never lost.
   */
  stopReplica(id: string, graceSeconds: number): Promise<Replica | undefined>;
  /** Removes a stopped replica; a missing one is no error. */
  removeReplica(id: string): Promise<void>;
  /**
   * Why a running replica that fails its health checks cannot be reached on its port, where the runtime can tell
   * (`it listens on 127.0.0.1:8080 inside its container, …`); undefined where it cannot.
   */
  unreachableBecause(replica: Replica): Promise<string | undefined>;
}

/** What a workload runtime runs for an app: `replicas` alike replicas of one revision, rolled out by the runtime. */
export type WorkloadSpec = Omit<ReplicaSpec, 'slot' | 'pullCredentials'> & {
  replicas: number;
  healthCheck: HealthCheck | null;
  /** The app's last restart: a new value replaces every replica (a rolling restart). */
  restartedAt: string | null;
  /**
   * The platforms (`os/architecture`) the image is built for, where the registry said: a runtime whose hosts differ
   * places replicas where they can run. Absent when not known, so the spec (and its hash) of a revision made before
   * Berth read platforms is what it was.
   */
  platforms?: string[];
};

/**
 * A workload a runtime holds, named as the runtime names it: its tenant, its app's name, and its app's incarnation
 * (the app's uid, or the end of it the runtime keeps: `app.uid.endsWith(incarnation)`).
 */
export interface HeldWorkload {
  tenantId: string;
  app: string;
  incarnation: string;
}

/** An app's workload as a workload runtime reports it. */
export interface ObservedWorkload {
  app: string;
  /** Fingerprint of the spec last applied, so an unchanged spec is never applied again. */
  specHash: string;
  /** Why the runtime gave up on the rollout (Kubernetes: its progress deadline; ECS: its circuit breaker), or null. */
  rolloutFailure: string | null;
  /**
   * Why the runtime cannot start the replicas it should, in its words, while that lasts: ECS could not place or
   * launch a task (the account's Fargate vCPU quota reached, no capacity in the zones, no address left in the
   * subnets), Kubernetes could not schedule a pod (no node or Fargate profile fits it). No replica starts, so no
   * replica's stop tells it.
   */
  notStarting?: string;
  /**
   * Set when the runtime vouches for a workload at rest: `replicas` replicas of `revision`, all ready, nothing rolling
   * out. Its replicas are then not listed (they are not among the observed replicas), which saves the calls.
   */
  steady?: { revision: number; replicas: number };
}

/**
 * Where apps run as workloads the runtime itself keeps at their replica count and rolls out (a Kubernetes
 * Deployment, an ECS service). Berth applies the desired workload and watches; observation is per tenant.
 */
export interface WorkloadRuntime {
  /** Makes a tenant's home (Kubernetes: its namespace, quota and network policy) match its plan's limits. */
  ensureTenant(tenantId: string, limits: PlanLimits): Promise<void>;
  /**
   * What is held here: the tenants with a home, by id (those whose home is already going left out), and every
   * workload, across tenants.
   */
  holdings(): Promise<{ homes: string[]; workloads: HeldWorkload[] }>;
  /** Removes a deleted tenant's home with whatever is left in it; idempotent. */
  removeTenant(tenantId: string): Promise<void>;
  /**
   * Removes a workload whose app is gone, with its route when `routeFree` (routes are named for the app, so one
   * stays while an app of the same name exists). Idempotent; true when it stopped one (not one already going).
   */
  removeOrphan(workload: HeldWorkload, routeFree: boolean): Promise<boolean>;
  /**
   * Every workload and replica of a tenant's `apps` (those on this runtime, named for a runtime that cannot list
   * by tenant), in as few calls as the runtime allows.
   */
  observe(
    tenantId: string,
    apps: readonly Pick<AppRecord, 'name' | 'uid'>[],
  ): Promise<{ workloads: ObservedWorkload[]; replicas: Replica[] }>;
  /**
   * Creates or changes an app's workload; idempotent. A spec the runtime refuses, which no retry would change (ECS
   * refusing a task definition too large), is not applied: the refusal, in the runtime's words, is returned, and its
   * deployment fails with it. Other failures throw, to be tried again.
   */
  applyWorkload(spec: WorkloadSpec): Promise<{ refused: string } | undefined>;
  /**
   * Deletes an app's workload and what routes to it; its replicas then stop. Idempotent; true once nothing of it
   * is left but replicas still stopping (they are observed until gone).
   */
  deleteWorkload(tenantId: string, app: Pick<AppRecord, 'name' | 'uid'>): Promise<boolean>;
  /** Lets go of a stopped replica once its stop is recorded for metering; a missing one is no error. */
  releaseReplica(replica: Replica): Promise<void>;
  listReplicas(filter?: ReplicaFilter): Promise<Replica[]>;
}

/** Where a replica's output is kept (local: Docker; AWS: CloudWatch Logs or the Kubernetes API). */
export interface ReplicaLogs {
  /** Log lines of a replica, oldest first; with `follow`, until the signal aborts. */
  replicaLogs(replica: Replica, options: LogOptions): AsyncIterable<string>;
}

/** What a metrics source answers: the replicas' figures (those asked for), and the span they average over. */
export interface ReplicaSamples<F extends ReplicaFigure = ReplicaFigure> {
  /** The window asked for where the source keeps a history (as near as it keeps one), else its sample's span. */
  windowSeconds: number;
  /** By replica id; replicas that are gone or have no sample yet are left out. */
  stats: Map<string, Pick<ReplicaStats, F>>;
}

/**
 * The metrics port: CPU and memory utilisation of a replica relative to its own limits (local: Docker stats; AWS:
 * CloudWatch for Fargate, metrics-server for EKS).
 */
export interface Metrics {
  /**
   * The replicas' figures (one batched call where the source allows): averaged over the last `windowSeconds`, as
   * far as the source keeps a history (CloudWatch; Docker: its stats streams, from when the replica was first seen),
   * else its latest (metrics-server: over its own window); with no window asked, its latest (CloudWatch: the last
   * minute; Docker: the last 10 s). `windowSeconds` answers the span covered. `figures` (all by default) are those the
   * caller reads, where the source charges for each (CloudWatch bills every metric it is asked for); a source that
   * reads them together may answer all of them.
   */
  replicaStats<F extends ReplicaFigure = ReplicaFigure>(
    replicas: Replica[],
    windowSeconds?: number,
    figures?: readonly F[],
  ): Promise<ReplicaSamples<F>>;
}

/** A probe's verdict; a failed one says why, in words for the app's owner (never the replica's address). */
export type ProbeAnswer = { ok: true } | { ok: false; why: string };

/** Probes a replica's endpoint: HTTP GET of `path` (2xx/3xx is healthy) or, without a path, a TCP connect. */
export interface HealthProbe {
  probe(
    endpoint: { host: string; port: number },
    check: { path?: string; timeoutSeconds: number },
  ): Promise<ProbeAnswer>;
}

const APP_EVENT_TYPES = [
  'deploying',
  'deployed',
  'deploymentFailed',
  'rolledBack',
  'scaled',
  'replicaExited',
  'replicaRemoved',
  'unhealthy',
  'restarted',
  'crashLoop',
  'stopped',
  'started',
  'suspended',
  'resumed',
  'deleting',
  'scaleOutHeld',
  'usageWarning',
  'usageCapReached',
] as const;
export type AppEventType = (typeof APP_EVENT_TYPES)[number];

export interface AppEventRecord {
  tenantId: string;
  appUid: string;
  id: string;
  type: AppEventType;
  message: string;
  at: string;
  details?: Record<string, unknown>;
}

/** Sends an app's traffic to exactly these endpoints (local: the ingress's table; AWS: the app's target group). */
export interface TrafficRouter {
  route(tenantId: string, app: string, endpoints: { host: string; port: number }[]): Promise<void>;
  /** Forgets an app that is gone, removing whatever the router created for it. */
  remove(tenantId: string, app: string): Promise<void>;
}

/** What the control loop knows of a replica beyond the runtime's view. */
export interface ReplicaInsight {
  ready: boolean;
  unhealthy: boolean;
  restarts: number;
}

export interface Clock {
  now(): Date;
}

/** An image in the platform registry, as a new revision pins it. */
export interface RegistryImage {
  /** Its manifest's (or index's) digest. */
  digest: string;
  /**
   * The platforms (`os/architecture`, e.g. `linux/amd64`) it is built for: each of an index's, or a single image's
   * from its config. Empty when the registry does not say.
   */
  platforms: string[];
}

/**
 * The platform's image registry (local: the distribution registry; AWS: ECR). Repositories are named
 * `<tenant>/<name>`; every method takes the tenant first. Each is recorded in the Store, and a tenant's records,
 * pending ones included, name every repository the registry may hold for it.
 */
export interface ImageRegistry {
  /** How image references name it, e.g. `127.0.0.1:5000`. */
  host: string;
  /** The repository path prefix of a tenant's repositories, e.g. `acme/`. */
  namespaceOf(tenantId: string): string;
  /**
   * The image a tag (or digest) of one of its repositories points at, read in one manifest fetch; undefined when
   * there is none.
   */
  imageAt(repository: string, reference: string): Promise<RegistryImage | undefined>;
  /** Short-lived `docker login` credentials that reach only the tenant's own repositories. */
  login(tenantId: string): Promise<RegistryLogin>;
  /** ConflictError('repository.exists') when it exists. */
  createRepository(tenantId: string, name: string): Promise<Repository>;
  listRepositories(tenantId: string): Promise<Repository[]>;
  /** undefined when the repository does not exist. */
  listImages(tenantId: string, name: string): Promise<Image[] | undefined>;
  /** Deletes the repository with every image in it; false when it does not exist. */
  deleteRepository(tenantId: string, name: string): Promise<boolean>;
  /**
   * Keeps the image at `digest` from the registry's own expiry for the app `appUid`, until releaseImages: an app's
   * revisions pin digests, and a runtime replacing a replica pulls the pinned one again, however long ago it was
   * pushed and wherever its tags have moved since (for its newest revisions and those in use: see
   * releaseRevisionLeftBehind). Idempotent; an image no longer there is left alone. ECR's lifecycle policy spares an
   * image so held; the local registry expires nothing, so it has nothing to keep.
   */
  holdImage(repository: string, digest: string, appUid: string): Promise<void>;
  /** Lets go of what holdImage kept for `appUid`; an image or repository gone since is no error. */
  releaseImages(repository: string, digests: string[], appUid: string): Promise<void>;
}

/** Where the report job's billing reports are also kept as files for finance (local: the data directory; AWS: S3). */
export interface ReportArchive {
  store(report: BillingReport, csv: string): Promise<void>;
}

/** Everything core needs from the outside, wired once per mode (functions/shared/{local,aws}.ts). */
export interface CoreDeps {
  store: Store;
  clock: Clock;
  /** The public URL of an app, e.g. `http://web.acme.localhost:8000`. */
  appUrl(tenantId: string, app: string): string;
  /** Lifetimes and billing reports. */
  meter: MeterStore;
  /** The price table usage is billed by. */
  prices: PriceTable;
  /** The app sizes this install offers; every Fargate size when absent. */
  sizes?: OfferedSizes;
  /** Runtimes this install offers; the first is the default. */
  runtimes: readonly [RevisionSpec['runtime'], ...RevisionSpec['runtime'][]];
  /**
   * The platforms (`os/architecture`) a runtime runs images on, where they are fixed (ECS on Fargate: `linux/amd64`
   * and `linux/arm64`), the one it prefers first: an image from the platform registry built for none of them is
   * refused. A runtime not named runs what its hosts can.
   */
  platforms?: Partial<Record<RevisionSpec['runtime'], readonly string[]>>;
  /** Told after every write that changes an app's desired state, so its reconcile starts at once. */
  appChanged?(app: Pick<AppRecord, 'tenantId' | 'name' | 'spec'>): void;
}

/** Core deps of what reads images and writes revisions: the API, not the jobs. */
export interface RegistryDeps extends CoreDeps {
  registry: ImageRegistry;
  /** How the hosts of other registries resolve: an image from one must come from the public internet. */
  hosts: HostResolver;
  /** Where the registry's upkeep after a write is made (releaseRevisionLeftBehind) reports a failure. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

/** Host names as the runtimes resolve them when they pull. */
export interface HostResolver {
  /** The addresses `host` resolves to here; none when it does not resolve. */
  addressesOf(host: string): Promise<string[]>;
  /**
   * The private DNS domain `host` is or falls under where the runtimes pull, when their network has one that this
   * resolver does not see (a private hosted zone of the apps' VPC); undefined when it falls under none.
   */
  privateDomainOf(host: string): Promise<string | undefined>;
}

/** How one runtime's replicas are seen: their listing, logs, utilisation and what the control loop knows of them. */
export interface ReplicaView {
  runtime: Pick<Runtime, 'listReplicas'>;
  logs: ReplicaLogs;
  metrics: Metrics;
  /** What is known of each replica's health and restarts beyond the runtime's view, by replica id. */
  replicaInsights(app: AppRecord, replicas: Replica[]): Promise<Map<string, ReplicaInsight>>;
}

/** The replica views of the runtimes a process can see, by the runtime name apps choose. */
export type ReplicaViews = Partial<Record<RevisionSpec['runtime'], ReplicaView>>;

/** Answers kept for a moment, by key: a second ask within it gets the first answer. */
export interface AnswerCache {
  get<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

/** Core deps of what looks at running replicas: each app is seen through its own runtime's view. */
export interface RuntimeViewDeps extends CoreDeps {
  views: ReplicaViews;
  /**
   * Where reading replicas spends a quota the whole account shares — AWS: ECS, ELB and CloudWatch reads, which the
   * jobs need as well — an app's instances are read once per moment per process, however often they are asked for.
   */
  recentInstances?: AnswerCache;
}
