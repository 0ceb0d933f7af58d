import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ECS_FARGATE_PLATFORMS,
  EKS_FARGATE_PLATFORMS,
} from '../../functions/adapters/fargate/task-requests.ts';
import { createApi } from '../../functions/http/api.ts';
import { clientFor, localApi, NOWHERE, startLocalApiRegistry } from '../support/local-api.ts';
import { registryHttp } from '../support/registry-http.ts';
import { workerPort } from '../support/worker-port.ts';

describe("images checked against their runtime's platform (DynamoDB Local, the distribution registry)", () => {
  let setup: Awaited<ReturnType<typeof localApi>>;
  let registry: { stop(): Promise<void> };
  let client: ReturnType<typeof clientFor>;
  let key: string;
  let push: ReturnType<typeof registryHttp>;
  let bearer: string;
  /** The digest of each tag pushed, as the push computed it. */
  const pushed: Record<string, string> = {};

  beforeAll(async () => {
    const registryPort = await workerPort();
    setup = await localApi({ registryPort });
    registry = await startLocalApiRegistry(setup);
    // As an install on AWS: ECS on Fargate runs linux/amd64 and linux/arm64, EKS on Fargate linux/amd64 only; Docker
    // runs what its host can.
    const api = createApi({
      ...setup.deps,
      runtimes: ['fargate', 'eks', 'docker'],
      platforms: { fargate: ECS_FARGATE_PLATFORMS, eks: EKS_FARGATE_PLATFORMS },
    });
    client = clientFor(api, setup.adminKey);
    key = (await client.createTenant('acme')).key;
    push = registryHttp({ api: NOWHERE, registry: `127.0.0.1:${registryPort}`, username: '', password: '' });
    bearer = setup.deps.registryAuth.tokens.issue(
      'acme',
      [{ type: 'repository', name: 'acme/web', actions: ['pull', 'push'] }],
      600,
    );
    pushed.amd64 = await push.push('acme/web', 'amd64', bearer, 'linux/amd64');
    pushed.arm64 = await push.push('acme/web', 'arm64', bearer, 'linux/arm64');
    await push.push('acme/web', 'arm32', bearer, 'linux/arm');
    pushed.multi = await push.pushIndex('acme/web', 'multi', bearer, [
      'linux/arm64',
      'linux/amd64',
      'unknown/unknown',
    ]);
    await push.pushIndex('acme/web', 'arm-only', bearer, ['linux/arm64', 'linux/arm/v7', 'unknown/unknown']);
  });
  afterAll(async () => registry?.stop());

  const image = (tag: string) => `127.0.0.1:${setup.wiring.registry.port}/acme/web:${tag}`;
  const app = (name: string, tag: string, runtime = 'fargate') => ({
    name,
    image: image(tag),
    cpu: 0.25,
    memory: 512,
    port: 8080,
    runtime,
  });

  it("reads a tag's digest and platforms in one manifest fetch: a single image's from its config, an index's from its entries", async () => {
    const { registry } = setup.deps;
    expect(await registry.imageAt('acme/web', 'amd64')).toEqual({
      digest: pushed.amd64,
      platforms: ['linux/amd64'],
    });
    expect(await registry.imageAt('acme/web', 'arm64')).toEqual({
      digest: pushed.arm64,
      platforms: ['linux/arm64'],
    });
    expect(await registry.imageAt('acme/web', 'multi')).toEqual({
      digest: pushed.multi,
      platforms: ['linux/arm64', 'linux/amd64'],
    });
    // By digest too.
    expect(await registry.imageAt('acme/web', pushed.multi ?? '')).toEqual({
      digest: pushed.multi,
      platforms: ['linux/arm64', 'linux/amd64'],
    });
    expect(await registry.imageAt('acme/web', 'never-pushed')).toBeUndefined();
    expect(await registry.imageAt('acme/web', `sha256:${'0'.repeat(64)}`)).toBeUndefined();
    expect(await registry.imageAt('acme/nothing', 'amd64')).toBeUndefined();
  });

  it('creates an app on Fargate from an image built for linux/amd64 or linux/arm64, alone or in an index', async () => {
    for (const [name, tag] of [
      ['single', 'amd64'],
      ['multi', 'multi'],
      ['graviton', 'arm64'],
      ['graviton-multi', 'arm-only'],
    ] as const) {
      const res = await client.call('POST', '/v1/apps', key, app(name, tag));
      expect(res.status, res.text).toBe(201);
    }
  });

  it('refuses an app whose image is built for none of its runtime’s platforms, with what to do', async () => {
    const res = await client.call('POST', '/v1/apps', key, app('arm', 'arm32'));
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([
      {
        path: 'image',
        message: `image "${image('arm32')}" is built for linux/arm, but apps on fargate run on linux/amd64 or linux/arm64: build it for linux/amd64 (docker build --platform linux/amd64) and push it again`,
      },
    ]);
    expect((await client.call('GET', '/v1/apps/arm', key)).status).toBe(404);
    // EKS on Fargate runs linux/amd64 only.
    const onEks = await client.call('POST', '/v1/apps', key, app('eks-arm', 'arm64', 'eks'));
    expect(onEks.status).toBe(400);
    expect(onEks.json).toMatchObject({
      errors: [
        { path: 'image', message: expect.stringContaining('apps on eks run on linux/amd64: build it') },
      ],
    });
  });

  it('refuses such an image as a change or a deploy of an app on Fargate, leaving the app as it was', async () => {
    const created = await client.call('POST', '/v1/apps', key, app('kept', 'amd64'));
    expect(created.status, created.text).toBe(201);
    const before = (await client.call('GET', '/v1/apps/kept', key)).json;
    const patched = await client.call('PATCH', '/v1/apps/kept', key, { image: image('arm32') });
    expect(patched.status).toBe(400);
    const deployed = await client.call('POST', '/v1/apps/kept/deployments', key, { image: image('arm32') });
    expect(deployed.status).toBe(400);
    expect((await client.call('GET', '/v1/apps/kept', key)).json).toEqual(before);
    // A change of something else, the image unchanged, still deploys.
    const resized = await client.call('PATCH', '/v1/apps/kept', key, { memory: 1024 });
    expect(resized.status, resized.text).toBe(200);
  });

  it('lets a runtime without a fixed platform run any image', async () => {
    const res = await client.call('POST', '/v1/apps', key, app('local-arm', 'arm32', 'docker'));
    expect(res.status, res.text).toBe(201);
  });

  it('answers each revision with the platforms its image is built for, kept in the table', async () => {
    const created = await client.call('POST', '/v1/apps', key, app('kept-platforms', 'multi', 'docker'));
    expect(created.status, created.text).toBe(201);
    const deployed = await client.call('POST', '/v1/apps/kept-platforms/deployments', key, {
      image: 'registry.example.com/acme/web:1',
    });
    expect(deployed.status, deployed.text).toBe(202);
    const revision = async (n: number) =>
      (await client.call('GET', `/v1/apps/kept-platforms/revisions/${n}`, key)).json;
    expect(await revision(1)).toMatchObject({
      image: image('multi'),
      imageDigest: pushed.multi,
      imagePlatforms: ['linux/arm64', 'linux/amd64'],
    });
    // An image from another registry is never fetched: its platforms are not known.
    expect(await revision(2)).toMatchObject({ imageDigest: null, imagePlatforms: null });
  });
});
