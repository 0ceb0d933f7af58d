import { ConflictError } from '../../functions/core/errors.ts';
import type { ImageRegistry } from '../../functions/core/ports.ts';
import { MAX_REPOSITORIES_PER_TENANT } from '../../functions/core/tenant-caps.ts';
import type { Image, RegistryLogin } from '../../schemas/repository.ts';
import { MemoryStore } from './memory-store.ts';

/** An ImageRegistry whose tags are set by the test; like the real ones, it records its repositories in a store. */
export class FakeRegistry implements ImageRegistry {
  readonly host = '127.0.0.1:5000';

  constructor(private readonly records = new MemoryStore()) {}

  namespaceOf(tenantId: string): string {
    return `${tenantId}/`;
  }
  readonly digests = new Map<string, string>();
  /** The platforms of each digest the test names; none said for the others. */
  readonly platforms = new Map<string, string[]>();

  async imageAt(repository: string, reference: string) {
    const digest = reference.startsWith('sha256:')
      ? reference
      : this.digests.get(`${repository}:${reference}`);
    return digest ? { digest, platforms: this.platforms.get(digest) ?? [] } : undefined;
  }
  async login(tenantId: string): Promise<RegistryLogin> {
    return {
      registry: this.host,
      username: tenantId,
      password: 'fake',
      expiresAt: new Date(0).toISOString(),
    };
  }
  async createRepository(tenantId: string, name: string) {
    const repository = {
      name,
      uri: `${this.host}/${tenantId}/${name}`,
      createdAt: new Date(0).toISOString(),
    };
    if (!(await this.records.createRepository(tenantId, repository, MAX_REPOSITORIES_PER_TENANT))) {
      throw new ConflictError('repository.exists', `repository "${name}" already exists`);
    }
    return repository;
  }
  listRepositories(tenantId: string) {
    return this.records.listRepositories(tenantId);
  }
  async listImages(tenantId: string, name: string): Promise<Image[] | undefined> {
    return (await this.records.getRepository(tenantId, name)) ? [] : undefined;
  }
  deleteRepository(tenantId: string, name: string) {
    return this.records.deleteRepository(tenantId, name);
  }
  /** What holdImage keeps, as `<repository>@<digest> for <app uid>`. */
  readonly held = new Set<string>();
  async holdImage(repository: string, digest: string, appUid: string) {
    this.held.add(`${repository}@${digest} for ${appUid}`);
  }
  async releaseImages(repository: string, digests: string[], appUid: string) {
    for (const digest of digests) this.held.delete(`${repository}@${digest} for ${appUid}`);
  }
}
