import type { Image, RegistryLogin, Repository } from '../../../schemas/repository.ts';
import { ConflictError, UnavailableError } from '../../core/errors.ts';
import type { ImageRegistry, RegistryImage, Store } from '../../core/ports.ts';
import { MAX_REPOSITORIES_PER_TENANT } from '../../core/tenant-caps.ts';
import { MANIFEST_MEDIA_TYPES, platformsOfImage } from '../oci/image-platforms.ts';
import type { LoginCredentialSigner, RegistryTokenIssuer } from './registry-tokens.ts';

const MANIFEST_TYPES = MANIFEST_MEDIA_TYPES.join(', ');

const LOGIN_TTL_SECONDS = 3600;

export interface DistributionRegistryOptions {
  /** How image references name the registry, e.g. `127.0.0.1:5000`. */
  host: string;
  /** Where it listened before, as revisions made then name it (rememberRegistryAddress). */
  formerHosts?: readonly string[];
  store: Store;
  tokens: RegistryTokenIssuer;
  logins: LoginCredentialSigner;
  now: () => Date;
}

/**
 * The ImageRegistry on the CNCF distribution registry, whose token service Berth's API is. Repositories and pushed
 * images are kept in the store (fed by the registry's push notifications); digests come from the registry itself.
 */
export class DistributionRegistry implements ImageRegistry {
  readonly host: string;
  readonly formerHosts: readonly string[];

  namespaceOf(tenantId: string): string {
    return `${tenantId}/`;
  }

  constructor(private readonly options: DistributionRegistryOptions) {
    this.host = options.host;
    this.formerHosts = options.formerHosts ?? [];
  }

  private uri(tenantId: string, name: string) {
    return `${this.host}/${tenantId}/${name}`;
  }

  /** A call on the registry's API with a short token of Berth's own (deleting needs the `delete` action). */
  private async registryFetch(path: string, repository: string, method: 'GET' | 'DELETE'): Promise<Response> {
    const token = this.options.tokens.issue(
      'berth',
      [{ type: 'repository', name: repository, actions: [method === 'DELETE' ? 'delete' : 'pull'] }],
      60,
    );
    try {
      return await fetch(`http://${this.host}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: MANIFEST_TYPES },
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new UnavailableError('the image registry is unavailable; retry shortly', { cause: err });
    }
  }

  async imageAt(repository: string, reference: string): Promise<RegistryImage | undefined> {
    const manifest = await this.registryFetch(`/v2/${repository}/manifests/${reference}`, repository, 'GET');
    if (manifest.status === 404) return undefined;
    if (!manifest.ok) throw new UnavailableError(`the image registry answered ${manifest.status}`);
    const digest = manifest.headers.get('docker-content-digest');
    if (!digest) throw new UnavailableError('the image registry answered a manifest without its digest');
    const platforms = await platformsOfImage(await manifest.text(), async (config) => {
      const blob = await this.registryFetch(`/v2/${repository}/blobs/${config}`, repository, 'GET');
      if (blob.status === 404) return undefined;
      if (!blob.ok) throw new UnavailableError(`the image registry answered ${blob.status}`);
      return blob;
    });
    return { digest, platforms };
  }

  /** Bytes of an image's config and layers (of the first platform, for an index). */
  async imageSize(repository: string, digest: string): Promise<number> {
    const res = await this.registryFetch(`/v2/${repository}/manifests/${digest}`, repository, 'GET');
    if (!res.ok) return 0;
    const manifest = (await res.json()) as {
      config?: { size?: number };
      layers?: { size?: number }[];
      manifests?: { digest: string }[];
    };
    const first = manifest.manifests?.[0];
    if (first) return this.imageSize(repository, first.digest);
    return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
  }

  async login(tenantId: string): Promise<RegistryLogin> {
    const credentials = this.options.logins.mint(tenantId, LOGIN_TTL_SECONDS, this.options.now().getTime());
    return { registry: this.host, ...credentials };
  }

  async createRepository(tenantId: string, name: string): Promise<Repository> {
    const repository = { name, uri: this.uri(tenantId, name), createdAt: this.options.now().toISOString() };
    if (!(await this.options.store.createRepository(tenantId, repository, MAX_REPOSITORIES_PER_TENANT))) {
      throw new ConflictError('repository.exists', `repository "${name}" already exists`);
    }
    return repository;
  }

  listRepositories(tenantId: string): Promise<Repository[]> {
    return this.options.store.listRepositories(tenantId);
  }

  async listImages(tenantId: string, name: string): Promise<Image[] | undefined> {
    if (!(await this.options.store.getRepository(tenantId, name))) return undefined;
    return this.options.store.listImages(tenantId, name);
  }

  /** Deletes every manifest of the repository from the registry, then its records (blobs go at the registry's GC). */
  async deleteRepository(tenantId: string, name: string): Promise<boolean> {
    const images = await this.listImages(tenantId, name);
    if (!images) return false;
    const repository = `${tenantId}/${name}`;
    for (const { digest } of images) await this.deleteManifest(repository, digest);
    return this.options.store.deleteRepository(tenantId, name);
  }

  /** Nothing to keep: the local registry expires no image; an image goes only with its repository. */
  async holdImage(): Promise<void> {}

  /** Nothing was kept (holdImage). */
  async releaseImages(): Promise<void> {}

  /**
   * Records a push the registry notified. Pushes go only to created repositories (see `registryGrants`), so one whose
   * repository is not recorded landed after the repository was deleted, on a token granted before: it is taken out
   * of the registry rather than left where a repository created later by that name would serve it.
   */
  async recordPush(tenantId: string, name: string, push: { digest: string; tag?: string; at: string }) {
    const repository = `${tenantId}/${name}`;
    if (!(await this.options.store.getRepository(tenantId, name))) {
      await this.deleteManifest(repository, push.digest);
      return;
    }
    const size = await this.imageSize(repository, push.digest);
    await this.options.store.recordImagePush(tenantId, name, {
      digest: push.digest,
      tags: push.tag ? [push.tag] : [],
      pushedAt: push.at,
      size,
    });
  }

  private async deleteManifest(repository: string, digest: string) {
    const res = await this.registryFetch(`/v2/${repository}/manifests/${digest}`, repository, 'DELETE');
    if (!res.ok && res.status !== 404)
      throw new UnavailableError(`the image registry answered ${res.status}`);
  }
}
