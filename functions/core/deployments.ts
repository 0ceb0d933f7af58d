import {
  Deployment,
  type DeploymentCreate,
  Revision,
  TERMINAL_DEPLOYMENT_STATUSES,
} from '../../schemas/app.ts';
import type { Page } from '../../schemas/common.ts';
import { resolveSpec } from './app-specs.ts';
import { changeApp, getAppRecord, imageForChange, retarget, withNewRevision } from './apps.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { checkImageSource, checkOtherRegistryHost, pinnedImage, platformImageAt } from './images.ts';
import type {
  AppRecord,
  CoreDeps,
  DeploymentRecord,
  PageRequest,
  RegistryDeps,
  RevisionRecord,
} from './ports.ts';
import { inSchemaOrder } from './schema-order.ts';
import { allItems } from './walk.ts';

function toRevision({ tenantId: _t, appUid: _a, ...revision }: RevisionRecord): Revision {
  return inSchemaOrder(Revision, { ...revision, imagePlatforms: revision.imagePlatforms ?? null });
}

function toDeployment({ tenantId: _t, appUid: _a, ...deployment }: DeploymentRecord): Deployment {
  return inSchemaOrder(Deployment, deployment);
}

/** Deploys a new revision: the current spec with `input` applied, even when nothing changed (a redeploy). */
export async function deploy(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  input: DeploymentCreate,
): Promise<Deployment> {
  const read = await getAppRecord(deps, tenantId, name);
  const image = await imageForChange(deps, read, input.image);
  const { deployment } = await changeApp(
    deps,
    tenantId,
    name,
    undefined,
    (app, now) => {
      app.spec = resolveSpec(deps, app.spec, input);
      return withNewRevision(app, 'deploy', image, now);
    },
    { read },
  );
  if (!deployment) throw new Error('a deploy always makes a deployment');
  return toDeployment(deployment);
}

/**
 * Points the app back at an existing revision: a new deployment of it, never a rebuild. Without `revision`, the
 * newest one that went live other than the one the app runs or is moving to — so a rollback during a deployment
 * abandons it, and two in a row toggle between the last two live revisions, like `kubectl rollout undo`.
 *
 * With `registry` (a rollback the tenant asks for), a revision whose image has left the platform registry since —
 * deleted with its repository, or on its own — is refused (409 revision.imageGone): no runtime could pull it; one it
 * has is held for the app again. The automatic rollback of a failed deployment goes back to the revision that runs,
 * whose repository cannot go and whose image the app holds; its event says `rolledBack` rather than `deploying`.
 */
export async function rollback(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  revision: number | undefined,
  images?: Pick<RegistryDeps, 'registry' | 'hosts'>,
): Promise<Deployment> {
  const app = await getAppRecord(deps, tenantId, name);
  const target = await getRevisionRecord(
    deps,
    tenantId,
    app.uid,
    name,
    revision ?? (await previousLiveRevision(deps, app)),
  );
  if (images) await checkRevisionImage(images, tenantId, app.uid, target);
  const { deployment } = await changeApp(
    deps,
    tenantId,
    name,
    undefined,
    (current, now) => {
      const { image, cpu, memory, port, command, env, healthCheck, runtime } = target;
      current.spec = { image, cpu, memory, port, command, env, healthCheck, runtime };
      const deployment = retarget(current, target.number, 'rollback', now);
      if (images) return { app: current, deployment };
      return {
        app: current,
        deployment,
        event: {
          type: 'rolledBack',
          message: `rolled back to revision ${target.number}`,
          details: { deployment: deployment.id, revision: target.number },
        },
      };
    },
    { read: app },
  );
  if (!deployment) throw new Error('a rollback always makes a deployment');
  return toDeployment(deployment);
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
  { registry, hosts }: Pick<RegistryDeps, 'registry' | 'hosts'>,
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

/** Reads a deployment; with `waitSeconds`, waits up to that long for it to reach a terminal status. */
export async function getDeployment(
  deps: CoreDeps,
  tenantId: string,
  name: string,
  id: string,
  waitSeconds = 0,
): Promise<Deployment> {
  const app = await getAppRecord(deps, tenantId, name);
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const deployment = await deps.store.getDeployment(tenantId, app.uid, id);
    if (!deployment)
      throw new NotFoundError('deployment.notFound', `app "${name}" has no deployment "${id}"`);
    if (TERMINAL_DEPLOYMENT_STATUSES.includes(deployment.status) || Date.now() + WAIT_POLL_MS > deadline) {
      return toDeployment(deployment);
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}
