import type { Image, RegistryLogin, Repository } from '../../schemas/repository.ts';
import { NotFoundError } from './errors.ts';
import type { RegistryDeps } from './ports.ts';
import { getActiveTenant } from './tenants.ts';

export async function registryLogin(deps: RegistryDeps, tenantId: string): Promise<RegistryLogin> {
  await getActiveTenant(deps, tenantId);
  return deps.registry.login(tenantId);
}

export async function createRepository(
  deps: RegistryDeps,
  tenantId: string,
  name: string,
): Promise<Repository> {
  await getActiveTenant(deps, tenantId);
  return deps.registry.createRepository(tenantId, name);
}

export function listRepositories(deps: RegistryDeps, tenantId: string): Promise<Repository[]> {
  return deps.registry.listRepositories(tenantId);
}

export async function listImages(deps: RegistryDeps, tenantId: string, name: string): Promise<Image[]> {
  const images = await deps.registry.listImages(tenantId, name);
  if (!images) throw new NotFoundError('repository.notFound', `repository "${name}" does not exist`);
  return images;
}

/** The actions on `repository` a tenant may have: everything under `<tenant>/`, nothing elsewhere. */
export function allowedActions(tenantId: string, repository: string, asked: string[]): ('pull' | 'push')[] {
  const [namespace, name, ...rest] = repository.split('/');
  if (namespace !== tenantId || !name || rest.length > 0) return [];
  return asked.filter((a): a is 'pull' | 'push' => a === 'pull' || a === 'push');
}
