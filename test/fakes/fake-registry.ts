import type { ImageRegistry } from '../../functions/core/ports.ts';
import type { Image, RegistryLogin, Repository } from '../../schemas/repository.ts';

/** An ImageRegistry whose tags are set by the test. */
export class FakeRegistry implements ImageRegistry {
  readonly host = '127.0.0.1:5000';

  namespaceOf(tenantId: string): string {
    return `${tenantId}/`;
  }
  readonly digests = new Map<string, string>();
  readonly repositories = new Map<string, Repository>();

  async resolveDigest(repository: string, reference: string) {
    return reference.startsWith('sha256:') ? reference : this.digests.get(`${repository}:${reference}`);
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
    this.repositories.set(`${tenantId}/${name}`, repository);
    return repository;
  }
  async listRepositories(tenantId: string) {
    return [...this.repositories.entries()].filter(([k]) => k.startsWith(`${tenantId}/`)).map(([, r]) => r);
  }
  async listImages(tenantId: string, name: string): Promise<Image[] | undefined> {
    return this.repositories.has(`${tenantId}/${name}`) ? [] : undefined;
  }
  async deleteRepository(tenantId: string, name: string) {
    return this.repositories.delete(`${tenantId}/${name}`);
  }
}
