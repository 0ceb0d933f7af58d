import { ConflictError } from '../../functions/core/errors.ts';
import type { ImageRegistry, Store } from '../../functions/core/ports.ts';
import { MAX_REPOSITORIES_PER_TENANT } from '../../functions/core/tenant-caps.ts';
import type { Image, RegistryLogin } from '../../schemas/repository.ts';
import { MemoryStore } from './memory-store.ts';

/** Tags as `<repository>:<tag>` → digest; an image a tag named stays in its repository when the tag moves or goes. */
class Tags extends Map<string, string> {
  /** The images there, as `<repository>@<digest>`. */
  readonly images = new Set<string>();
  override set(repositoryTag: string, digest: string) {
    this.images.add(`${repositoryTag.slice(0, repositoryTag.lastIndexOf(':'))}@${digest}`);
    return super.set(repositoryTag, digest);
  }
}

/**
 * An ImageRegistry whose images the test pushes by setting their tags (`digests`) and removes with `deleteImage`; as
 * the real ones do, it finds an image by digest while it is there, and records its repositories in a store.
 */
export class FakeRegistry implements ImageRegistry {
  readonly host = '127.0.0.1:5000';

  constructor(
    private readonly records: Pick<
      Store,
      'createRepository' | 'deleteRepository' | 'getRepository' | 'listRepositories'
    > = new MemoryStore(),
  ) {}

  namespaceOf(tenantId: string): string {
    return `${tenantId}/`;
  }
  readonly digests = new Tags();
  /** The platforms of each digest the test names; none said for the others. */
  readonly platforms = new Map<string, string[]>();

  async imageAt(repository: string, reference: string) {
    const digest = reference.startsWith('sha256:')
      ? reference
      : this.digests.get(`${repository}:${reference}`);
    return digest && this.digests.images.has(`${repository}@${digest}`)
      ? { digest, platforms: this.platforms.get(digest) ?? [] }
      : undefined;
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
    const repository = `${this.namespaceOf(tenantId)}${name}`;
    for (const image of this.digests.images) {
      if (image.startsWith(`${repository}@`))
        this.deleteImage(repository, image.slice(repository.length + 1));
    }
    return this.records.deleteRepository(tenantId, name);
  }
  /** Deletes an image and the tags that name it, as `docker` cannot but a registry's own API or console can. */
  deleteImage(repository: string, digest: string) {
    this.digests.images.delete(`${repository}@${digest}`);
    for (const [tag, tagged] of this.digests)
      if (tagged === digest && tag.startsWith(`${repository}:`)) this.digests.delete(tag);
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
