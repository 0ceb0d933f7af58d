import {
  type Author,
  Deployment,
  type DeploymentCreate,
  Revision,
  TERMINAL_DEPLOYMENT_STATUSES,
} from '../../schemas/app.ts';
import type { Page } from '../../schemas/common.ts';
import { waitUnlessAborted } from './abortable-wait.ts';
import { resolveSpec } from './app-specs.ts';
import { changeApp, getAppRecord, imageForChange, retarget, withNewRevision } from './apps.ts';
import { ConflictError, DeploymentMovedError, isDomainError, NotFoundError } from './errors.ts';
import {
  checkImageSource,
  checkOtherRegistryHost,
  pinnedImage,
  platformImageAt,
  releaseRevisionLeftBehind,
} from './images.ts';
import type {
  AppRecord,
  CoreDeps,
  DeploymentRecord,
  PageRequest,
  RegistryDeps,
  RevisionRecord,
} from './ports.ts';
import { inSchemaOrder } from './schema-order.ts';
import type { IfMatch } from './versioning.ts';
import { allItems } from './walk.ts';

function toRevision({ tenantId: _t, appUid: _a, ...revision }: RevisionRecord): Revision {
  return inSchemaOrder(Revision, { ...revision, imagePlatforms: revision.imagePlatforms ?? null });
}

function toDeployment({ tenantId: _t, appUid: _a, ...deployment }: DeploymentRecord): Deployment {
  return inSchemaOrder(Deployment, { ...deployment, createdBy: deployment.createdBy ?? null });
}

/** Deploys a new revision: the current spec with `input` applied, even when nothing changed (a redeploy). */
export async function deploy(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  input: DeploymentCreate,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<Deployment> {
  const read = await getAppRecord(deps, tenantId, name);
  const image = await imageForChange(deps, read, input.image);
  let movingFrom = read.targetRevision;
  const { app, deployment } = await changeApp(
    deps,
    tenantId,
    name,
    ifMatch,
    (app, now) => {
      movingFrom = app.targetRevision;
      app.spec = resolveSpec(deps, app.spec, input);
      return withNewRevision(app, 'deploy', image, now, author);
    },
    { read, author },
  );
  if (!deployment) throw new Error('a deploy always makes a deployment');
  await releaseRevisionLeftBehind(deps, app, movingFrom);
  return toDeployment(deployment);
}

/**
 * Points the app back at an existing revision, as its tenant asks: a new deployment of it, never a rebuild. Without
 * `revision`, the newest one that went live other than the one the app runs or is moving to — so a rollback during a
 * deployment abandons it, and two in a row toggle between the last two live revisions, like `kubectl rollout undo`.
 * A revision whose image has left the platform registry since — deleted with its repository, or on its own — is
 * refused (409 revision.imageGone): no runtime could pull it; one it has is held for the app again. The revision the
 * app is on already is refused too (see alreadyOn).
 */
export async function rollback(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  revision: number | undefined,
  ifMatch?: IfMatch,
  author?: Author,
): Promise<Deployment> {
  const app = await getAppRecord(deps, tenantId, name);
  const target = await getRevisionRecord(
    deps,
    tenantId,
    app.uid,
    name,
    revision ?? (await previousLiveRevision(deps, app)),
  );
  await checkRevisionImage(deps, tenantId, app.uid, target);
  const { deployment } = await changeApp(
    deps,
    tenantId,
    name,
    ifMatch,
    (current, now) => {
      if (current.targetRevision === target.number && current.currentRevision === target.number) {
        throw alreadyOn(current);
      }
      return { app: current, deployment: backTo(current, target, now, author) };
    },
    { read: app, author },
  );
  if (!deployment) throw new Error('a rollback always makes a deployment');
  return toDeployment(deployment);
}

/**
 * 409 for a rollback to the revision the app is on already — it went live, and nothing moves the app off it — which
 * would change no replica (as `kubectl rollout undo` skips one). A rollback to a revision still deploying, or one that
 * failed with nothing to go back to, is a new try of it and goes ahead.
 */
function alreadyOn(app: AppRecord): ConflictError {
  const on = `app "${app.name}" is on revision ${app.targetRevision} already`;
  return new ConflictError(
    'revision.current',
    app.status === 'stopped'
      ? `${on}, stopped: POST /v1/apps/${app.name}/start runs it`
      : `${on}: nothing to roll back; POST /v1/apps/${app.name}/restart replaces its replicas, and POST /v1/apps/${app.name}/deployments deploys it again as a new revision`,
  );
}

/**
 * Where the platform rolls `app` back to from `deployment`, if it does: the deployment of its target revision failed
 * while another revision served — the one that went live last or, while none has (the app's first deployment was
 * superseded before a pass saw it succeed), `serving`, another revision whose replicas the pass found serving. Either
 * serves still: its replicas are kept until the target's are ready. A failed rollback goes back to no revision that
 * never went live: two revisions that each fail while the other serves would otherwise take turns for good.
 */
export function wayBack(
  app: Pick<AppRecord, 'targetRevision' | 'currentRevision'>,
  deployment: DeploymentRecord,
  serving: number | undefined,
): number | undefined {
  if (deployment.status !== 'failed' || deployment.revision !== app.targetRevision) return undefined;
  const back = app.currentRevision ?? (deployment.trigger === 'rollback' ? undefined : serving);
  return back !== undefined && back !== app.targetRevision ? back : undefined;
}

/**
 * The platform's rollback of `failing`, the deployment of the app's target revision the pass found failed, to its way
 * back (see wayBack; `servingRevision`, the pass's), in one write with its end: the deployment ends `rolled_back` (its
 * reason names the way back), the app points at the revision that served before it (whose repository cannot go, and
 * whose image the app holds) with the deployment that takes it there, and a `rolledBack` event says both. Nothing is
 * written unless all of it is: the deployment stays open, and the next pass that finds it failed rolls back again
 * (unless another pass ended it). `app` is the app as the pass observed it; the write is made only while it is as the
 * pass read it (its generation: a deploy, rollback, scale or stop meanwhile is never undone). Its replicas serve still,
 * so neither the plan's limits, the month's cap nor a suspension since refuses it (a tenant that since used the room a
 * smaller failed revision left is over its plan, as after a move to a smaller plan). The rollback's deployment;
 * undefined when nothing was written.
 */
export async function rollBackFailed(
  deps: CoreDeps,
  app: AppRecord,
  failing: { record: DeploymentRecord; read: DeploymentRecord },
  servingRevision?: number,
): Promise<Deployment | undefined> {
  const failed = failing.record;
  const serving = wayBack(app, failed, servingRevision);
  if (serving === undefined) throw new Error('nothing to roll back to');
  const target = await getRevisionRecord(deps, app.tenantId, app.uid, app.name, serving);
  try {
    const { deployment } = await changeApp(
      deps,
      app.tenantId,
      app.name,
      undefined,
      (current, now) => {
        if (current.generation !== app.generation) return { app: current };
        current.readyReplicas = app.readyReplicas;
        current.observedGeneration = app.observedGeneration;
        // The platform's own: no key asked for it.
        const deployment = backTo(current, target, now, undefined);
        const reason = `${failed.reason}; rolled back to revision ${serving} (${deployment.id})`;
        const ended = { ...failed, status: 'rolled_back' as const, reason, updatedAt: now.toISOString() };
        const message = `deployment of revision ${failed.revision} failed: ${failed.reason}; rolled back to revision ${serving}`;
        const details = { deployment: deployment.id, failed: failed.id, revision: serving };
        return {
          app: current,
          deployment,
          ended: { record: ended, read: failing.read },
          event: { type: 'rolledBack', message, details },
        };
      },
      { restores: true, evenIfSuspended: true },
    );
    return deployment && toDeployment(deployment);
  } catch (err) {
    // Deleted meanwhile (its replicas go, and its deployments with it), or another pass ended the deployment.
    if (isDomainError(err, 'app.deleting') || isDomainError(err, 'app.notFound')) return undefined;
    if (err instanceof DeploymentMovedError) return undefined;
    throw err;
  }
}

/** Points `app` at `target`'s spec and revision; the deployment that takes it there. */
function backTo(
  app: AppRecord,
  target: RevisionRecord,
  now: Date,
  author: Author | undefined,
): DeploymentRecord {
  const { image, cpu, memory, port, command, env, healthCheck, runtime } = target;
  app.spec = { image, cpu, memory, port, command, env, healthCheck, runtime };
  return retarget(app, target.number, 'rollback', now, author);
}

/** Deployments read per page while looking back for the previous live revision. */
const LOOK_BACK_PAGE = 25;

/** The revision of the newest succeeded deployment other than the app's target; 409 when there is none. */
async function previousLiveRevision(deps: CoreDeps, app: AppRecord): Promise<number> {
  const deployments = allItems(
    (page) => deps.store.listDeployments(app.tenantId, app.uid, page),
    LOOK_BACK_PAGE,
  );
  for await (const d of deployments) {
    if (d.status === 'succeeded' && d.revision !== app.targetRevision) return d.revision;
  }
  throw new ConflictError(
    'revision.noPrevious',
    `app "${app.name}" has no earlier revision that went live; name one with {"revision": n}`,
  );
}

/**
 * Holds the image of the platform registry the revision runs for the app again (its revision may be older than
 * holds, or its hold let go of); 409 revision.imageGone when the registry no longer has it. Another registry's image
 * has its host checked again: 400 when the name has moved into the runtimes' network since.
 */
async function checkRevisionImage(
  { registry, hosts }: RegistryDeps,
  tenantId: string,
  appUid: string,
  revision: RevisionRecord,
) {
  const image = pinnedImage(revision);
  const source = checkImageSource(image, tenantId, registry);
  if (!source.local) return checkOtherRegistryHost(hosts, image, source);
  const found = await platformImageAt(registry, source);
  if (found) return registry.holdImage(source.repository, found.digest, appUid);
  throw new ConflictError(
    'revision.imageGone',
    `revision ${revision.number} runs ${image}, which is no longer in the platform registry (it was deleted, or its repository was); deploy an image it has`,
  );
}

async function getRevisionRecord(deps: CoreDeps, tenantId: string, appUid: string, app: string, n: number) {
  const revision = await deps.store.getRevision(tenantId, appUid, n);
  if (!revision) throw new NotFoundError('revision.notFound', `app "${app}" has no revision ${n}`);
  return revision;
}

export async function getRevision(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  n: number,
): Promise<Revision> {
  const app = await getAppRecord(deps, tenantId, name);
  return toRevision(await getRevisionRecord(deps, tenantId, app.uid, name, n));
}

export async function listRevisions(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  page: PageRequest,
): Promise<Page<Revision>> {
  const app = await getAppRecord(deps, tenantId, name);
  const revisions = await deps.store.listRevisions(tenantId, app.uid, page);
  return { items: revisions.items.map(toRevision), nextCursor: revisions.nextCursor };
}

export async function listDeployments(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  page: PageRequest,
): Promise<Page<Deployment>> {
  const app = await getAppRecord(deps, tenantId, name);
  const deployments = await deps.store.listDeployments(tenantId, app.uid, page);
  return { items: deployments.items.map(toDeployment), nextCursor: deployments.nextCursor };
}

const WAIT_POLL_MS = 250;

/**
 * Reads a deployment; with `waitSeconds`, waits up to that long for it to reach a terminal status, or until `signal`
 * aborts (the client left): then it reads no more.
 */
export async function getDeployment(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  id: string,
  waitSeconds = 0,
  signal?: AbortSignal,
): Promise<Deployment> {
  const app = await getAppRecord(deps, tenantId, name);
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const deployment = await deps.store.getDeployment(tenantId, app.uid, id);
    if (!deployment)
      throw new NotFoundError('deployment.notFound', `app "${name}" has no deployment "${id}"`);
    const ended = TERMINAL_DEPLOYMENT_STATUSES.includes(deployment.status);
    if (ended || Date.now() + WAIT_POLL_MS > deadline || !(await waitUnlessAborted(WAIT_POLL_MS, signal))) {
      return toDeployment(deployment);
    }
  }
}
