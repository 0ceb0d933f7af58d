import { randomBytes } from 'node:crypto';
import {
  App,
  type AppCreate,
  type AppPatch,
  type AppStatus,
  type Author,
  type DeploymentTrigger,
  type Scaling,
} from '../../schemas/app.ts';
import type { Page } from '../../schemas/common.ts';
import type { Plan } from '../../schemas/plan.ts';
import { type AppEventNote, appEventOf, deployingEvent, madeBy, recordAppEvent } from './app-events.ts';
import { assertServableHost } from './app-hosts.ts';
import { resolveSpec } from './app-specs.ts';
import type { Bounds } from './autoscale.ts';
import { ConflictError, isDomainError, NotFoundError, ValidationError } from './errors.ts';
import { newId } from './ids.ts';
import {
  type ResolvedImage,
  releaseAppImages,
  releaseImage,
  releaseRevisionLeftBehind,
  resolveImage,
} from './images.ts';
import type {
  AppRecord,
  AppWrite,
  CoreDeps,
  DeploymentRecord,
  PageRequest,
  RegistryDeps,
  RevisionRecord,
  TenantRecord,
} from './ports.ts';
import {
  assertReplicasAllowed,
  assertScalingAllowed,
  assertWithinLimits,
  reservationDelta,
  reservationOf,
} from './quota.ts';
import { sameValue } from './same-value.ts';
import { inSchemaOrder } from './schema-order.ts';
import { getActiveTenant, getTenantRecord } from './tenants.ts';
import { assertUnderUsageCap } from './usage-caps.ts';
import { assertVersion, type IfMatch, withOptimisticRetry } from './versioning.ts';

/** The API view of an app. */
function toApp(deps: CoreDeps, { tenantId, uid: _uid, spec, ...app }: AppRecord): App {
  return inSchemaOrder(App, { ...app, ...spec, url: deps.appUrl(tenantId, app.name) });
}

export async function getAppRecord(deps: CoreDeps, tenantId: string, name: string): Promise<AppRecord> {
  const app = await deps.store.getApp(tenantId, name);
  if (!app) throw new NotFoundError('app.notFound', `app "${name}" does not exist`);
  return app;
}

export async function getApp(deps: CoreDeps, tenantId: string, name: string): Promise<App> {
  return toApp(deps, await getAppRecord(deps, tenantId, name));
}

export async function listApps(deps: CoreDeps, tenantId: string, page: PageRequest): Promise<Page<App>> {
  const apps = await deps.store.listApps(tenantId, page);
  return { items: apps.items.map((app) => toApp(deps, app)), nextCursor: apps.nextCursor };
}

async function planOf(deps: CoreDeps, tenant: TenantRecord): Promise<Plan> {
  const plan = await deps.store.getPlan(tenant.plan);
  if (!plan)
    throw new NotFoundError('plan.notFound', `plan "${tenant.plan}" of tenant "${tenant.id}" does not exist`);
  return plan;
}

/**
 * The autoscaling rules — `boundsAt`, the replica bounds scaling puts in force: its own min..max, or those of the
 * schedule that fired last — loaded, with their cron parser, only by a request that may need them (a create or PATCH
 * that sets scaling, a start): not on the API's cold start.
 */
const autoscaleRules = () => import('./autoscale.ts');

/** `count` moved within `bounds`. */
const within = (count: number, { min, max }: Bounds) => Math.min(Math.max(count, min), max);

function checkReplicasAgainstScaling(replicas: number, scaling: Scaling | null) {
  if (scaling && (replicas < scaling.min || replicas > scaling.max)) {
    const message = `replicas ${replicas} lies outside scaling.min..max (${scaling.min}..${scaling.max}); change scaling or remove it`;
    throw new ValidationError(message, [{ path: 'replicas', message }]);
  }
}

/** The revision `app.latestRevision` names, snapshotting `app.spec` with what its image resolved to. */
function revisionOf(app: AppRecord, image: ResolvedImage, at: string): RevisionRecord {
  return {
    tenantId: app.tenantId,
    appUid: app.uid,
    app: app.name,
    number: app.latestRevision,
    ...app.spec,
    imageDigest: image.digest,
    imagePlatforms: image.platforms,
    createdAt: at,
  };
}

/** A deployment id: this prefix, the app's generation in base 36 over GENERATION_DIGITS, then random hex. */
const DEPLOYMENT_ID_PREFIX = 'dep_';
const GENERATION_DIGITS = 7;

/**
 * A pending deployment of `app.targetRevision`; a reconciler moves it on. Its id leads with the app's generation,
 * which every deployment raises, so ids sort in deployment order even within one millisecond.
 */
function deploymentOf(
  app: AppRecord,
  trigger: DeploymentTrigger,
  at: Date,
  author: Author | undefined,
): DeploymentRecord {
  const generation = app.generation.toString(36).padStart(GENERATION_DIGITS, '0');
  return {
    tenantId: app.tenantId,
    appUid: app.uid,
    id: `${DEPLOYMENT_ID_PREFIX}${generation}${randomBytes(6).toString('hex')}`,
    app: app.name,
    revision: app.targetRevision,
    trigger,
    createdBy: author ?? null,
    status: 'pending',
    reason: null,
    failedStarts: 0,
    phases: { pull: null, start: null, healthy: null, traffic: null },
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
}

/** The app's generation `deployment` was made at (its id leads with it): a replica of an earlier one ran before it. */
export function generationOf(deployment: Pick<DeploymentRecord, 'id'>): number {
  const start = DEPLOYMENT_ID_PREFIX.length;
  return Number.parseInt(deployment.id.slice(start, start + GENERATION_DIGITS), 36);
}

/**
 * Creates an app with revision 1 and its deployment, atomically with the plan check. `author`, here and in every
 * change that makes a deployment, is the key that asked for it, which the deployment shows.
 */
export async function createApp(
  deps: RegistryDeps,
  tenantId: string,
  input: AppCreate,
  author?: Author,
): Promise<{ app: App; deployment: DeploymentRecord }> {
  assertServableHost(deps, tenantId, input.name);
  const spec = resolveSpec(deps, undefined, input);
  const scaling = input.scaling ?? null;
  const replicas =
    input.replicas ?? (scaling ? within(1, (await autoscaleRules()).boundsAt(scaling, deps.clock.now())) : 1);
  if (input.replicas !== undefined) checkReplicasAgainstScaling(replicas, scaling);
  const uid = newId('app', deps.clock.now());
  const image = await resolveImage(deps, tenantId, uid, spec.image, spec.runtime);
  try {
    return await writeNewApp(deps, tenantId, input, { uid, spec, image, scaling, replicas }, author);
  } catch (err) {
    // No app will run the image it held: let go of it. The create's own error is the one to answer; should the
    // release fail too, the image is only kept longer than it need be.
    await releaseImage(deps, tenantId, uid, spec.image, image.digest).catch(() => undefined);
    throw await nameTakenByDeletion(deps, tenantId, input.name, err);
  }
}

/** A create refused because the name is taken by an app still being deleted says so: the name frees up shortly. */
async function nameTakenByDeletion(deps: RegistryDeps, tenantId: string, name: string, err: unknown) {
  if (!isDomainError(err, 'app.exists')) return err;
  const taken = await deps.store.getApp(tenantId, name);
  if (taken?.status !== 'deleting') return err;
  return new ConflictError(
    'app.deleting',
    `app "${name}" is still being deleted; create it again once GET /v1/apps/${name} answers 404`,
  );
}

/** The write of createApp, checked against the plan, tried again while reads of the tenant or plan were stale. */
function writeNewApp(
  deps: RegistryDeps,
  tenantId: string,
  input: AppCreate,
  made: Pick<AppRecord, 'uid' | 'spec' | 'scaling' | 'replicas'> & { image: ResolvedImage },
  author: Author | undefined,
): Promise<{ app: App; deployment: DeploymentRecord }> {
  const { uid, spec, image, scaling, replicas } = made;
  return withOptimisticRetry(async () => {
    const tenant = await getActiveTenant(deps, tenantId);
    const plan = await planOf(deps, tenant);
    const now = deps.clock.now();
    const at = now.toISOString();
    const app: AppRecord = {
      tenantId,
      name: input.name,
      uid,
      spec,
      replicas,
      scaling,
      status: 'deploying',
      readyReplicas: 0,
      latestRevision: 1,
      targetRevision: 1,
      currentRevision: null,
      restartedAt: null,
      generation: 1,
      observedGeneration: 0,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    const delta = reservationOf(app);
    assertReplicasAllowed(plan.id, plan.limits, replicas);
    assertScalingAllowed(plan.id, plan.limits, scaling);
    assertWithinLimits(plan.id, plan.limits, tenant.reserved, delta);
    await assertUnderUsageCap(deps, tenant, plan.limits, delta);
    const deployment = deploymentOf(app, 'create', now, author);
    // A stale plan or tenant read fails the write with WriteConflictError and is read again.
    await deps.store.createApp({
      app,
      revision: revisionOf(app, image, at),
      deployment,
      event: appEventOf(app, madeBy(deployingEvent(deployment), author), now),
      quota: { plan, delta },
    });
    deps.appChanged?.(app);
    return { app: toApp(deps, app), deployment };
  });
}

interface AppChange {
  app: AppRecord;
  revision?: RevisionRecord;
  deployment?: DeploymentRecord;
  /** What the change does, as an event of the app; a change with a deployment says so by default. */
  event?: AppEventNote;
  /** A deployment the change ends, written with it if the stored one is still as read (see AppWrite). */
  ended?: AppWrite['ended'];
}

/**
 * The one way an existing app changes: read app, tenant and plan; apply `mutate`; write on condition the app is still
 * the one read, with the quota delta checked in the same transaction. Stale reads retry; `ifMatch` is checked against
 * each read of the app.
 * A suspended tenant's changes are refused, unless `evenIfSuspended` (a change that only gives back); the plan's
 * limits refuse none that `restores` what the app ran, which runs still (see QuotaCheck). `read`: the
 * app as the caller has just read it (to resolve an image, say), which the first attempt uses instead of reading it
 * again; should it be stale by the write, the write fails and the next attempt reads afresh. The
 * change's event is written in the same transaction: it is in the app's events exactly when the change happened,
 * naming `author`, the key that asked for the change (none for the platform's own).
 */
export function changeApp(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  ifMatch: IfMatch,
  mutate: (app: AppRecord, now: Date) => AppChange,
  {
    evenIfSuspended = false,
    restores = false,
    read,
    author,
  }: { evenIfSuspended?: boolean; restores?: boolean; read?: AppRecord; author?: Author } = {},
): Promise<AppChange> {
  let known = read;
  return withOptimisticRetry(async () => {
    // The app and its tenant are read at once, so a change waits for two reads in a row (the tenant names the plan),
    // not three; what they answer is judged in the same order as before: the app first.
    const [appRead, tenantRead] = await Promise.allSettled([
      known ?? getAppRecord(deps, tenantId, name),
      (evenIfSuspended ? getTenantRecord : getActiveTenant)(deps, tenantId),
    ]);
    known = undefined;
    if (appRead.status === 'rejected') throw appRead.reason;
    const current = appRead.value;
    assertVersion(ifMatch, current.version);
    if (current.status === 'deleting')
      throw new ConflictError('app.deleting', `app "${name}" is being deleted`);
    if (tenantRead.status === 'rejected') throw tenantRead.reason;
    const tenant = tenantRead.value;
    const plan = await planOf(deps, tenant);
    const now = deps.clock.now();
    const change = mutate(structuredClone(current), now);
    // A change to what the app already is (the same count, an empty patch) writes nothing: its ETag stays valid.
    if (!change.revision && !change.deployment && !change.ended && sameValue(change.app, current))
      return change;
    change.app.version = current.version + 1;
    change.app.updatedAt = now.toISOString();
    const delta = reservationDelta(reservationOf(current), reservationOf(change.app));
    if (!restores) {
      if (change.app.replicas > current.replicas)
        assertReplicasAllowed(plan.id, plan.limits, change.app.replicas);
      // Bounds set before a move to a smaller plan stay; the autoscaler keeps within the plan.
      if (!sameValue(change.app.scaling, current.scaling))
        assertScalingAllowed(plan.id, plan.limits, change.app.scaling);
      await assertUnderUsageCap(deps, tenant, plan.limits, delta);
      assertWithinLimits(plan.id, plan.limits, tenant.reserved, delta);
    }
    const { event, ...written } = change;
    const note = event ?? (change.deployment && deployingEvent(change.deployment, change.app.status));
    await deps.store.updateApp({
      ...written,
      ...(note ? { event: appEventOf(change.app, madeBy(note, author), now) } : {}),
      read: current,
      quota: { plan, delta, evenIfSuspended, restores },
    });
    if (change.app.generation !== current.generation) deps.appChanged?.(change.app);
    return change;
  });
}

/**
 * The image a spec change of `app` would run (`image`, else the one it runs), checked and resolved for the app's
 * runtime before the write (it may need the network).
 */
export async function imageForChange(
  deps: RegistryDeps,
  { tenantId, uid, spec }: AppRecord,
  image: string | undefined,
): Promise<ResolvedImage & { image: string }> {
  const resolved = image ?? spec.image;
  return { image: resolved, ...(await resolveImage(deps, tenantId, uid, resolved, spec.runtime)) };
}

/**
 * Points the app at `revision`, with the deployment (by `trigger`) that takes it there: at once, or, for a stopped
 * app, which stays stopped (it was stopped on purpose, and holds nothing against its plan), once it is started.
 */
export function retarget(
  app: AppRecord,
  revision: number,
  trigger: DeploymentTrigger,
  now: Date,
  author: Author | undefined,
): DeploymentRecord {
  app.targetRevision = revision;
  app.generation += 1;
  if (app.status !== 'stopped') app.status = 'deploying';
  return deploymentOf(app, trigger, now, author);
}

/**
 * Moves the app to a new revision of `spec` (see `retarget`). The revision pins `resolved`'s digest and platforms
 * when the spec still runs that image (a concurrent change of image leaves it to the runtime to resolve).
 */
export function withNewRevision(
  app: AppRecord,
  trigger: DeploymentTrigger,
  resolved: ResolvedImage & { image: string },
  now: Date,
  author: Author | undefined,
): AppChange {
  app.latestRevision += 1;
  const deployment = retarget(app, app.latestRevision, trigger, now, author);
  const pinned = resolved.image === app.spec.image ? resolved : { digest: null, platforms: null };
  return { app, revision: revisionOf(app, pinned, now.toISOString()), deployment };
}

/** Applies spec fields; a change to what a replica runs makes a new revision and deployment. */
export async function updateApp(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  patch: AppPatch,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  // Only a spec change makes a revision, and only a revision needs its image resolved (a registry call), so a
  // patch of replicas or scaling never depends on the registry.
  const { replicas: _replicas, scaling: _scaling, ...specPatch } = patch;
  const touchesSpec = Object.values(specPatch).some((value) => value !== undefined);
  const read = touchesSpec ? await getAppRecord(deps, tenantId, name) : undefined;
  const image = read ? await imageForChange(deps, read, patch.image) : undefined;
  const rules = patch.scaling ? await autoscaleRules() : undefined;
  let movingFrom: number | undefined;
  const { app, revision } = await changeApp(
    deps,
    tenantId,
    name,
    ifMatch,
    (app, now) => {
      const spec = resolveSpec(deps, app.spec, patch);
      const scaling = patch.scaling === undefined ? app.scaling : patch.scaling;
      // A count the patch leaves out stays where the autoscaler keeps it — within a schedule's bounds, which may lie
      // outside scaling.min..max (zero at night, say) — but for scaling set anew, which brings it within the bounds
      // it puts in force at once, as the autoscaler would at its next run.
      const inForce =
        patch.scaling && patch.replicas === undefined ? rules?.boundsAt(patch.scaling, now) : undefined;
      const replicas = patch.replicas ?? (inForce ? within(app.replicas, inForce) : app.replicas);
      if (patch.replicas !== undefined) checkReplicasAgainstScaling(replicas, scaling);
      const from = app.replicas;
      // Both against the app as read from the table, whose maps come back in the table's key order.
      const scalingChanged = !sameValue(scaling, app.scaling);
      const specChanged = !sameValue(spec, app.spec);
      Object.assign(app, { spec, scaling, replicas });
      if (specChanged) {
        if (!image) throw new Error('a spec change always comes with its resolved image');
        movingFrom = app.targetRevision;
        return withNewRevision(app, 'update', image, now, author);
      }
      if (replicas === from && !scalingChanged) return { app };
      app.generation += 1;
      return {
        app,
        event: whenTheyRun(
          app,
          replicas,
          sizingEvent(from, replicas, scalingChanged ? { scaling, inForce } : undefined),
        ),
      };
    },
    { read, author },
  );
  if (revision && movingFrom !== undefined) await releaseRevisionLeftBehind(deps, app, movingFrom);
  return toApp(deps, app);
}

/**
 * A PATCH of an app's sizing, as its event: the replicas it moved between, and the autoscaling it set (`changed`
 * holds it when it changed, with the bounds it put in force), in one message: a schedule that moved the count is named.
 */
function sizingEvent(
  from: number,
  to: number,
  changed?: { scaling: Scaling | null; inForce: Bounds | undefined },
): AppEventNote {
  if (!changed) return scaledEvent(from, to);
  const { scaling, inForce } = changed;
  const range = scaling && (scaling.min === scaling.max ? `${scaling.min}` : `${scaling.min}–${scaling.max}`);
  const bounds = scaling
    ? `set to ${range} replica${range === '1' ? '' : 's'}, ${goesBy(scaling)}`
    : 'turned off';
  const bySchedule = inForce?.schedule ? `: schedule "${inForce.schedule}" is in force` : '';
  const moved = from === to ? '' : `; ${scaledEvent(from, to).message}${bySchedule}`;
  return { type: 'scaled', message: `autoscaling ${bounds}${moved}`, details: { from, to, scaling } };
}

/**
 * What autoscaling goes by, for its event: `tracking CPU at 60 %`, `with 2 schedules`, or that nothing moves the
 * count — as when a PATCH, which sets scaling whole, left out the target it had.
 */
function goesBy(scaling: Scaling): string {
  const targets = [
    scaling.targetCpuPercent && `CPU at ${scaling.targetCpuPercent} %`,
    scaling.targetMemoryPercent && `memory at ${scaling.targetMemoryPercent} %`,
  ].filter(Boolean);
  const schedules = scaling.schedules?.length ?? 0;
  const parts = [
    targets.length ? `tracking ${targets.join(' and ')}` : '',
    schedules ? `with ${schedules} schedule${schedules === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : 'with no target or schedule: the count stays where it is set';
}

/** `1 replica`, `3 replicas`. */
const replicaCount = (n: number) => `${n} replica${n === 1 ? '' : 's'}`;

/** A move of an app's replicas, as its event: `scaled from 1 to 2 replicas`, or as `verb` says it. */
const scaledEvent = (from: number, to: number, verb = 'scaled'): AppEventNote => ({
  type: 'scaled',
  message: `${verb} from ${from} to ${replicaCount(to)}`,
  details: { from, to },
});

/** When the replicas of an app with this status, none of which run now, will run. */
const WHEN_REPLICAS_RUN: Partial<Record<AppStatus, string>> = {
  stopped: 'once the app is started',
  failed: 'once a deployment succeeds (its last failed)',
};

/**
 * A sizing event of an app none of whose replicas run now, saying when the `to` it keeps for then will
 * (`scaled from 1 to 2 replicas; they run once the app is started`).
 */
function whenTheyRun(app: AppRecord, to: number, note: AppEventNote): AppEventNote {
  const when = WHEN_REPLICAS_RUN[app.status];
  if (!when || to === 0) return note;
  return { ...note, message: `${note.message}; ${to === 1 ? 'it runs' : 'they run'} ${when}` };
}

/** Sets the desired replica count; within scaling.min..max when autoscaling is on. */
export async function scaleApp(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  replicas: number,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  const scale = (app: AppRecord): AppChange => {
    checkReplicasAgainstScaling(replicas, app.scaling);
    if (replicas === app.replicas) return { app };
    const event = whenTheyRun(app, replicas, scaledEvent(app.replicas, replicas));
    app.replicas = replicas;
    app.generation += 1;
    return { app, event };
  };
  const { app } = await changeApp(deps, tenantId, name, ifMatch, scale, { author });
  return toApp(deps, app);
}

/** What the autoscaler's decision went by: its reason and what was measured end its event's message. */
type AutoscaleWhy = { reason: string; measured?: string } & Record<string, unknown>;

const autoscaleReason = (why: AutoscaleWhy) => `${why.reason}${why.measured ? ` (${why.measured})` : ''}`;

/**
 * The autoscaler's scale: only if the app is still at `expectedVersion` (a manual change meanwhile wins; the next
 * run decides again), within the plan but not bound to the static scaling range (a schedule may move it). `why`
 * goes into its event: its reason and what was measured end the message, and all of it is in the details.
 */
export async function autoscaleTo(
  deps: CoreDeps,
  app: AppRecord,
  replicas: number,
  why: AutoscaleWhy,
): Promise<AppRecord> {
  const { app: changed } = await changeApp(deps, app.tenantId, app.name, [app.version], (current) => {
    const scaled = scaledEvent(current.replicas, replicas, 'autoscaled');
    current.replicas = replicas;
    current.generation += 1;
    return {
      app: current,
      event: {
        ...scaled,
        message: `${scaled.message}: ${autoscaleReason(why)}`,
        details: { ...scaled.details, ...why },
      },
    };
  });
  return changed;
}

/**
 * Tells that the autoscaler holds an app at its count though it wants more (`max`, the plan's room or the tenant's
 * monthly cap stands in the way), in an event as a scale's: `why` ends its message and is all of its details.
 */
export async function autoscaleHeld(deps: CoreDeps, app: AppRecord, why: AutoscaleWhy): Promise<void> {
  const message = `autoscaling held at ${replicaCount(app.replicas)}: ${autoscaleReason(why)}`;
  await recordAppEvent(deps, app, 'scaleOutHeld', message, why);
}

/**
 * Marks an app for deletion: the reconciler stops and removes its replicas, then the app record itself (and the
 * plan's app slot) goes. Its vCPU and memory are given back at once. Asked again while that runs (a retry after a
 * lost answer, say), it answers the app as it is: being deleted is what was asked for. A suspended tenant may delete
 * its apps too (an admin offboarding it need not start them again first). The platform registry's images its
 * revisions held are let go of (releaseAppImages).
 */
export async function deleteApp(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  let deleting: AppRecord;
  try {
    ({ app: deleting } = await changeApp(
      deps,
      tenantId,
      name,
      ifMatch,
      (app) => {
        app.status = 'deleting';
        app.generation += 1;
        return {
          app,
          event: { type: 'deleting', message: 'deleting: its replicas stop, then the app goes' },
        };
      },
      { evenIfSuspended: true, author },
    ));
  } catch (err) {
    if (!isDomainError(err, 'app.deleting')) throw err;
    // Asked again: let go of the images again, should the first ask have failed part-way.
    deleting = await getAppRecord(deps, tenantId, name);
  }
  await releaseAppImages(deps, deleting);
  return toApp(deps, deleting);
}

/** Stops every replica; the app keeps its spec and its place in the plan, but no vCPU or memory. */
export async function stopApp(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  const stop = (app: AppRecord): AppChange => {
    if (app.status === 'stopped') return { app };
    app.status = 'stopped';
    app.generation += 1;
    return { app, event: { type: 'stopped', message: 'stopped: its replicas stop' } };
  };
  const { app } = await changeApp(deps, tenantId, name, ifMatch, stop, { author });
  return toApp(deps, app);
}

/**
 * Starts a stopped app again with its target revision and its count, moved within the bounds its scaling puts in
 * force (checked against the plan like any growth). A target that never went live — the app was stopped mid-rollout
 * — gets a new deployment, with a deadline from now.
 */
export async function startApp(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  // Loaded before the app is read, which changeApp does beside its tenant, rather than read it once more first.
  const rules = await autoscaleRules();
  const start = (app: AppRecord, now: Date): AppChange => {
    if (app.status !== 'stopped') return { app };
    app.status = 'deploying';
    app.generation += 1;
    // Its count within the bounds in force (a schedule's may have moved since it stopped), as the autoscaler would.
    if (app.scaling) app.replicas = within(app.replicas, rules.boundsAt(app.scaling, now));
    const event: AppEventNote = {
      type: 'started',
      message: `started with revision ${app.targetRevision}`,
      details: { revision: app.targetRevision },
    };
    if (app.currentRevision === app.targetRevision) return { app, event };
    const deployment = deploymentOf(app, 'start', now, author);
    return { app, deployment, event: { ...event, details: { ...event.details, deployment: deployment.id } } };
  };
  const { app } = await changeApp(deps, tenantId, name, ifMatch, start, { author });
  return toApp(deps, app);
}

/** Replaces every replica, new ones first (a rolling restart of the same revision). */
export async function restartApp(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<App> {
  const restart = (app: AppRecord, now: Date): AppChange => {
    if (app.status === 'stopped')
      throw new ConflictError('app.stopped', `app "${name}" is stopped; start it instead`);
    if (app.status === 'failed') {
      throw new ConflictError(
        'app.failed',
        `app "${name}" failed to deploy and nothing of it runs to restart; POST /v1/apps/${name}/deployments tries its revision again, or deploy a fixed one`,
      );
    }
    app.restartedAt = now.toISOString();
    app.generation += 1;
    return {
      app,
      event: { type: 'restarted', message: 'restarting: every replica is replaced, new ones first' },
    };
  };
  const { app } = await changeApp(deps, tenantId, name, ifMatch, restart, { author });
  return toApp(deps, app);
}
