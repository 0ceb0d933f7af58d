import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../../functions/adapters/registry/distribution-registry.ts';
import {
  LoginCredentialSigner,
  RegistryTokenIssuer,
} from '../../../functions/adapters/registry/registry-tokens.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { ensureRegistrySecrets } from '../../../functions/local/registry-secrets.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { digestOf } from '../../support/pushed-images.ts';

const single = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(1), size: 100 },
  layers: [{ size: 1000 }, { size: 20 }],
});
const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [{ digest: digestOf(3), platform: { os: 'linux', architecture: 'amd64' } }],
});

/**
 * The registry's answers the real one will not give on demand — failures, a manifest without its digest, a config
 * gone — from a stand-in on a free port: each path answered as `answers` says, and 404 for any other.
 */
describe('the distribution registry adapter given answers the registry gives when it fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-answers-'));
  const secrets = ensureRegistrySecrets(dir);
  const answers = new Map<string, (res: ServerResponse) => void>();
  const server = createServer((req, res) => {
    const answer = answers.get(req.url ?? '');
    if (answer) answer(res);
    else res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  let registry: DistributionRegistry;
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>>;

  beforeAll(async () => {
    deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    registry = new DistributionRegistry({
      host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      store: deps.store,
      tokens: new RegistryTokenIssuer({
        privateKeyPem: secrets.privateKeyPem,
        keyId: secrets.keyId,
        issuer: 'berth',
        service: 'berth-registry',
      }),
      logins: new LoginCredentialSigner(secrets.secret),
      now: () => new Date(),
    });
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const manifest = (status: number, body: string, digest?: string) => (res: ServerResponse) =>
    res.writeHead(status, digest ? { 'docker-content-digest': digest } : {}).end(body);

  it('answers 503 for a manifest or config it failed to serve, or a manifest without its digest; none for a config gone', async () => {
    answers.set('/v2/acme/web/manifests/v1', manifest(500, 'internal error'));
    await expect(registry.imageAt('acme/web', 'v1')).rejects.toThrow(
      new UnavailableError('the image registry answered 500'),
    );
    answers.set('/v2/acme/web/manifests/v1', manifest(200, single));
    await expect(registry.imageAt('acme/web', 'v1')).rejects.toThrow(
      new UnavailableError('the image registry answered a manifest without its digest'),
    );
    answers.set('/v2/acme/web/manifests/v1', manifest(200, single, digestOf(2)));
    answers.set(`/v2/acme/web/blobs/${digestOf(1)}`, manifest(502, 'bad gateway'));
    await expect(registry.imageAt('acme/web', 'v1')).rejects.toThrow(
      new UnavailableError('the image registry answered 502'),
    );
    // Its config gone (deleted since, a garbage collection): the image is there, its platforms unknown.
    answers.delete(`/v2/acme/web/blobs/${digestOf(1)}`);
    expect(await registry.imageAt('acme/web', 'v1')).toEqual({ digest: digestOf(2), platforms: [] });
  });

  it("sizes an image by its config and layers, an index by its first platform's, and one it cannot read as 0", async () => {
    answers.set(`/v2/acme/web/manifests/${digestOf(3)}`, manifest(200, single, digestOf(3)));
    answers.set(`/v2/acme/web/manifests/${digestOf(4)}`, manifest(200, index, digestOf(4)));
    expect(await registry.imageSize('acme/web', digestOf(3))).toBe(1120);
    expect(await registry.imageSize('acme/web', digestOf(4))).toBe(1120);
    answers.set(`/v2/acme/web/manifests/${digestOf(5)}`, manifest(500, single, digestOf(5)));
    expect(await registry.imageSize('acme/web', digestOf(5))).toBe(0);
  });

  it('deletes a repository with its manifests, one gone already no matter; 503 when the registry fails one', async () => {
    const recorded = (name: string, digest: string) =>
      deps.store.recordImagePush('acme', name, {
        digest,
        tags: [],
        pushedAt: new Date().toISOString(),
        size: 1,
      });
    const pushed = async (name: string, digest: string) => {
      await registry.createRepository('acme', name);
      await recorded(name, digest);
    };
    // Two images, one of them deleted from the registry already (404: no answer set for it).
    await pushed('web', digestOf(6));
    await recorded('web', digestOf(7));
    answers.set(`/v2/acme/web/manifests/${digestOf(6)}`, manifest(202, ''));
    expect(await registry.deleteRepository('acme', 'web')).toBe(true);
    expect(await registry.listImages('acme', 'web')).toBeUndefined();

    await pushed('api', digestOf(8));
    answers.set(`/v2/acme/api/manifests/${digestOf(8)}`, manifest(500, 'internal error'));
    await expect(registry.deleteRepository('acme', 'api')).rejects.toThrow(
      new UnavailableError('the image registry answered 500'),
    );
    // Kept, so deleting it again can finish.
    expect(await registry.listImages('acme', 'api')).toHaveLength(1);
    expect(await registry.deleteRepository('acme', 'gone')).toBe(false);
  });
});
