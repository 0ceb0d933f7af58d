import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localApi, NOWHERE, startLocalApiRegistry } from '../support/local-api.ts';
import { registryHttp } from '../support/registry-http.ts';
import { workerPort } from '../support/worker-port.ts';

describe('the local registry after a repository is deleted (DynamoDB Local, the distribution registry)', () => {
  let registry: { stop(): Promise<void> } | undefined;
  afterEach(async () => {
    await registry?.stop();
    registry = undefined;
  });

  it('frees the blobs only its images used at its next start, and keeps every other image, tagged or not', async () => {
    const registryPort = await workerPort();
    const setup = await localApi({ registryPort });
    const start = () => startLocalApiRegistry(setup);
    /** The blobs the registry stores, by digest hex. */
    const blobs = () => {
      const root = join(setup.wiring.registry.dir, 'data/docker/registry/v2/blobs/sha256');
      return new Set(readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix))));
    };
    registry = await start();
    const { key } = await setup.createTenant('acme');
    for (const name of ['web', 'api']) {
      expect((await setup.call('POST', '/v1/repositories', key, { name })).status).toBe(201);
    }
    const push = registryHttp({
      api: NOWHERE,
      registry: `127.0.0.1:${registryPort}`,
      username: '',
      password: '',
    });
    const bearer = setup.deps.registryAuth.tokens.issue(
      'acme',
      ['acme/web', 'acme/api'].map((name) => ({ type: 'repository', name, actions: ['pull', 'push'] })),
      600,
    );
    // Each image's config is its own blob: one per platform.
    const web = await push.push('acme/web', '1', bearer, 'linux/arm64');
    const api = await push.push('acme/api', '1', bearer, 'linux/amd64');
    // Tag 2 moves on: the image it named stays, untagged, as a revision may pin it by digest.
    const untagged = await push.push('acme/api', '2', bearer, 'linux/s390x');
    await push.push('acme/api', '2', bearer, 'linux/ppc64le');
    await setup.deps.registryAuth.registry.recordPush('acme', 'web', {
      digest: web,
      tag: '1',
      at: new Date().toISOString(),
    });
    const before = blobs();

    expect((await setup.call('DELETE', '/v1/repositories/web', key)).status).toBe(204);
    expect(blobs()).toEqual(before);
    await registry.stop();
    registry = await start();

    const after = blobs();
    const freed = [...before].filter((digest) => !after.has(digest));
    // web's manifest and its config.
    expect(freed).toHaveLength(2);
    expect(freed).toContain(web.replace('sha256:', ''));
    expect(await setup.deps.registry.imageAt('acme/api', '1')).toEqual({
      digest: api,
      platforms: ['linux/amd64'],
    });
    expect(await setup.deps.registry.imageAt('acme/api', untagged)).toEqual({
      digest: untagged,
      platforms: ['linux/s390x'],
    });
    expect((await setup.deps.registry.imageAt('acme/api', '2'))?.platforms).toEqual(['linux/ppc64le']);
  }, 60_000);

  it('removes a push that lands after its repository was deleted, its token outliving it, and records nothing', async () => {
    const registryPort = await workerPort();
    const setup = await localApi({ registryPort });
    registry = await startLocalApiRegistry(setup);
    const { key } = await setup.createTenant('acme');
    expect((await setup.call('POST', '/v1/repositories', key, { name: 'cache' })).status).toBe(201);
    const bearer = setup.deps.registryAuth.tokens.issue(
      'acme',
      [{ type: 'repository', name: 'acme/cache', actions: ['pull', 'push'] }],
      600,
    );
    expect((await setup.call('DELETE', '/v1/repositories/cache', key)).status).toBe(204);
    const push = registryHttp({
      api: NOWHERE,
      registry: `127.0.0.1:${registryPort}`,
      username: '',
      password: '',
    });
    const digest = await push.push('acme/cache', '1', bearer);
    expect(await setup.deps.registry.imageAt('acme/cache', digest)).toMatchObject({ digest });
    // The registry's notification of the push.
    await setup.deps.registryAuth.registry.recordPush('acme', 'cache', {
      digest,
      tag: '1',
      at: new Date().toISOString(),
    });
    expect(await setup.deps.registry.imageAt('acme/cache', digest)).toBeUndefined();
    expect(await setup.deps.registry.imageAt('acme/cache', '1')).toBeUndefined();
    expect((await setup.call('GET', '/v1/repositories/cache/images', key)).status).toBe(404);
  }, 60_000);
});
