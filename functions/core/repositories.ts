import { DNS_LABEL, type Page } from '../../schemas/common.ts';
import { Image, type RegistryLogin, Repository } from '../../schemas/repository.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { checkImageSource } from './images.ts';
import { pageInMemory } from './page-in-memory.ts';
import type { AppRecord, PageRequest, RegistryDeps, Store } from './ports.ts';
import { inSchemaOrder } from './schema-order.ts';
import { getActiveTenant } from './tenants.ts';
import { allApps } from './walk.ts';

export async function registryLogin(deps: RegistryDeps, tenantId: string): Promise<RegistryLogin> {
  await getActiveTenant(deps, tenantId);
  return deps.registry.login(tenantId);
}

/**
 * Creates one of the tenant's repositories. Should the tenant be suspended meanwhile — its deletion begins so, and
 * then goes by the repositories recorded before this one — the repository is taken back and the create refused, so
 * nothing outlives the tenant.
 */
export async function createRepository(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
): Promise<Repository> {
  await getActiveTenant(deps, tenantId);
  const repository = await deps.registry.createRepository(tenantId, name);
  try {
    await getActiveTenant(deps, tenantId);
  } catch (err) {
    await deps.registry.deleteRepository(tenantId, name);
    throw err;
  }
  return inSchemaOrder(Repository, repository);
}

/** A page of the tenant's repositories, by name. */
export async function listRepositories(
  deps: RegistryDeps,
  tenantId: string,
  page: PageRequest,
): Promise<Page<Repository>> {
  const repositories = await deps.registry.listRepositories(tenantId);
  const shown = pageInMemory(repositories, (r) => r.name, 'ascending', page);
  return { ...shown, items: shown.items.map((r) => inSchemaOrder(Repository, r)) };
}

/** A page of a repository's images, newest push first. */
export async function listImages(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
  page: PageRequest,
): Promise<Page<Image>> {
  const images = await deps.registry.listImages(tenantId, name);
  if (!images) throw new NotFoundError('repository.notFound', `repository "${name}" does not exist`);
  const shown = pageInMemory(images, (image) => `${image.pushedAt} ${image.digest}`, 'descending', page);
  return { ...shown, items: shown.items.map((image) => inSchemaOrder(Image, image)) };
}

/**
 * Deletes one of the tenant's repositories with every image in it: 404 when there is none, 409 repository.inUse
 * while one of the tenant's apps runs, or is moving to, an image from it (its replicas could not be replaced).
 */
export async function deleteRepository(deps: RegistryDeps, tenantId: string, name: string): Promise<void> {
  const repository = `${deps.registry.namespaceOf(tenantId)}${name}`;
  const fromHere = (image: string) => {
    const source = checkImageSource(image, tenantId, deps.registry);
    return source.local && source.repository === repository;
  };
  for await (const app of allApps(deps.store, tenantId)) {
    if ((await imagesOf(deps, app)).some(fromHere)) {
      throw new ConflictError(
        'repository.inUse',
        `app "${app.name}" runs an image from repository "${name}"; deploy another image or delete the app first`,
      );
    }
  }
  if (!(await deps.registry.deleteRepository(tenantId, name))) {
    throw new NotFoundError('repository.notFound', `repository "${name}" does not exist`);
  }
}

/** The images an app's replicas run or are moving to: its latest spec's, its current and target revisions'. */
async function imagesOf(deps: RegistryDeps, app: AppRecord): Promise<string[]> {
  const others = [app.currentRevision, app.targetRevision].filter(
    (revision): revision is number => revision !== null && revision !== app.latestRevision,
  );
  const revisions = await Promise.all(
    [...new Set(others)].map((revision) => deps.store.getRevision(app.tenantId, app.uid, revision)),
  );
  return [app.spec.image, ...revisions.flatMap((r) => (r ? [r.image] : []))];
}

/** What a registry token carries for one repository. */
export interface RepositoryGrant {
  /** The registry's path of the repository: `<tenant>/<name>`. */
  repository: string;
  actions: ('pull' | 'push')[];
}

/**
 * The actions a tenant's registry token carries for the repositories `docker` asked about: pull and push under
 * `<tenant>/`, nothing elsewhere. As on ECR, a push goes only to a repository created with `POST /v1/repositories`:
 * asking to push anywhere else is refused with a message naming the call, rather than a repository appearing that the
 * API never made (nor validated the name of).
 */
export async function registryGrants(
  store: Pick<Store, 'getRepository'>,
  tenantId: string,
  asked: { repository: string; actions: string[] }[],
): Promise<RepositoryGrant[]> {
  const grants: RepositoryGrant[] = [];
  for (const { repository, actions } of asked) {
    const [namespace, name, ...rest] = repository.split('/');
    if (namespace !== tenantId || !name || rest.length > 0) continue;
    const granted = actions.filter((a): a is 'pull' | 'push' => a === 'pull' || a === 'push');
    // A name the API could not have made is no repository: no grant, and a push to it refused as to one never made
    // (unasked of the table, whose keys it may not even fit).
    const madeable = DNS_LABEL.test(name);
    if (granted.includes('push') && !(madeable && (await store.getRepository(tenantId, name)))) {
      throw new NotFoundError(
        'repository.notFound',
        `repository "${name}" does not exist; create it with POST /v1/repositories {"name":"${name}"} before pushing`,
      );
    }
    if (madeable && granted.length) grants.push({ repository, actions: granted });
  }
  return grants;
}
