import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, makeKeyAuthenticator } from '../../../functions/core/api-keys.ts';
import { createApi } from '../../../functions/http/api.ts';
import { type ApiDeps, bodyBytesCarried } from '../../../functions/http/context.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { eksWorld } from '../../support/eks-world.ts';
import { clientFor, sampleApp } from '../../support/local-api.ts';

type Api = Awaited<ReturnType<typeof startFakeKubeApi>>;

/** The API of an install offering Fargate and EKS, where this process sees EKS only. */
describe('replica views per runtime (EKS through the fake API server)', () => {
  let kube: Api;
  let setup: Awaited<ReturnType<typeof start>>;

  async function start() {
    const world = await eksWorld(kube);
    const adminKey = generateApiKey();
    const core = { ...world.deps, runtimes: ['fargate', 'eks'] as const };
    const deps: ApiDeps = {
      ...core,
      auth: makeKeyAuthenticator(core, {
        adminKeyHashes: [hashApiKey(adminKey)],
        logger: { error: () => {} },
      }),
      rateLimit: { ratePerSecond: 1e9, burst: 1e9 },
      logger: { error: () => {} },
      audit: { record: () => {} },
      views: { eks: world.runtime.view() },
      // As in AWS mode, where API Gateway buffers responses: a followed log request is a long poll.
      bufferedAnswers: { waitMs: 200, maxBodyBytes: 5 * 1024 * 1024 },
    };
    const client = clientFor(createApi(deps), adminKey);
    const key = (await client.createTenant('acme')).key;
    const pass = async () => {
      await world.reconciler.reconcileTenant('acme');
      world.deps.clock.advance(11_000);
    };
    return { ...client, key, pass, deps };
  }

  /** An app `web` of one replica on EKS, running: its pod's namespace and name. */
  async function runningPod() {
    const { call, key, pass } = setup;
    expect((await call('POST', '/v1/apps', key, { ...sampleApp('web'), runtime: 'eks' })).status).toBe(201);
    await pass();
    await pass();
    const [pod] = (await call('GET', '/v1/apps/web/instances', key)).json.items as { id: string }[];
    const [namespace = '', name = ''] = (pod?.id ?? '').split('/');
    return { namespace, name };
  }

  beforeEach(async () => {
    kube = await startFakeKubeApi();
    setup = await start();
  });
  afterEach(async () => kube.close());

  it("shows a crash-looping EKS pod's previous container's lines before its current ones", async () => {
    const { call, key, pass } = setup;
    const app = { ...sampleApp('web'), image: 'registry.example.com/acme/crashloop:1', runtime: 'eks' };
    expect((await call('POST', '/v1/apps', key, app)).status).toBe(201);
    await pass();
    await pass();
    const [pod] = (await call('GET', '/v1/apps/web/instances', key)).json.items as { restarts: number }[];
    expect(pod?.restarts).toBe(4);
    const lines = (await call('GET', '/v1/apps/web/logs', key)).text.trim().split('\n');
    expect(lines.map((line) => line.split(' ').slice(3).join(' '))).toEqual([
      'cannot reach the database',
      'listening',
      'ready',
    ]);
    expect((await call('GET', '/v1/apps/web/logs?tail=1', key)).text).toMatch(/ ready\n$/);
    // tail=0: none of the lines there are; following, only lines written from now on (none here).
    expect((await call('GET', '/v1/apps/web/logs?tail=0', key)).text).toBe('');
    expect((await call('GET', '/v1/apps/web/logs?tail=0&follow=true', key)).text).toBe('');
  });

  it("shows an EKS app's pods as instances, with the pods' readiness, usage, logs and metrics", async () => {
    const { call, key, pass } = setup;
    expect(
      (await call('POST', '/v1/apps', key, { ...sampleApp('web'), runtime: 'eks', replicas: 2 })).status,
    ).toBe(201);
    // Another app of the tenant's in the same namespace, whose pod none of web's views shows.
    expect((await call('POST', '/v1/apps', key, { ...sampleApp('api'), runtime: 'eks' })).status).toBe(201);
    await pass();
    await pass();
    const before = kube.requests.length;
    const instances = await call('GET', '/v1/apps/web/instances', key);
    // One pod list and one metrics read: the pods' limits come from the list.
    expect(kube.requests.slice(before).map((r) => r.path.split('?')[0])).toEqual([
      '/api/v1/namespaces/berth-acme/pods',
      '/apis/metrics.k8s.io/v1beta1/namespaces/berth-acme/pods',
    ]);
    expect(instances.status).toBe(200);
    const items = instances.json.items as Record<string, unknown>[];
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item).toMatchObject({ revision: 1, state: 'running', health: 'healthy', restarts: 0 });
      expect(item.id).toMatch(/^berth-acme\/web-/);
      // 125m (125000000n) of a 0.25 vCPU limit; 128 MiB (131072Ki) used.
      expect(item).toMatchObject({ cpuPercent: 50, memoryMiB: 128 });
    }
    const metrics = await call('GET', '/v1/apps/web/metrics?window=1h', key);
    // metrics-server keeps no history: the latest usage, over the window it measured it in.
    expect(metrics.json).toMatchObject({ window: '30s', average: { cpuPercent: 50, memoryPercent: 25 } });
    const beforeLogs = kube.requests.length;
    const logs = await call('GET', '/v1/apps/web/logs', key);
    expect(logs.status).toBe(200);
    // A streamed answer too: the /v1 middleware says so before any answer exists.
    expect(logs.headers.get('cache-control')).toBe('no-store');
    // Each pod's lines by its name, which tells them apart (the start of `<namespace>/<pod>` would not).
    const ready = logs.text.split('\n').filter((l) => l.endsWith(' ready'));
    expect(ready.map((l) => l.split(' ')[0]).sort()).toEqual(
      items.map((i) => String(i.id).split('/')[1]).sort(),
    );
    // Pods that never restarted have no previous container to ask for.
    expect(kube.requests.slice(beforeLogs).some((r) => r.path.includes('previous'))).toBe(false);
    // A body ends before the line that would take it past what the gateway carries.
    const [first] = logs.text.split('\n');
    setup.deps.bufferedAnswers = { waitMs: 200, maxBodyBytes: Buffer.byteLength(`${first}\n`) + 10 };
    const capped = await call('GET', '/v1/apps/web/logs', key);
    expect(capped.status).toBe(200);
    expect(capped.text.split('\n')).toHaveLength(2); // one line and its newline
    expect(logs.text.split('\n')).toContain(capped.text.trimEnd());
    setup.deps.bufferedAnswers = { waitMs: 200, maxBodyBytes: 5 * 1024 * 1024 };
    // Followed, the response still ends — at the deadline, with the lines so far — rather than never.
    const followed = await call('GET', '/v1/apps/web/logs?follow=true', key);
    expect(followed.status).toBe(200);
    expect(followed.text.split('\n').filter((l) => l.endsWith(' ready'))).toHaveLength(2);
    // A follow that may hold its Lambda for 20 s pays for it: with a burst of 5, refused before it waits at all.
    const tight = clientFor(
      createApi({
        ...setup.deps,
        rateLimit: { ratePerSecond: 1, burst: 5 },
        bufferedAnswers: { waitMs: 20_000, maxBodyBytes: 5 * 1024 * 1024 },
      }),
      'unused',
    );
    expect((await tight.call('GET', '/v1/apps/web/logs?follow=true', key)).json.code).toBe('rate.limited');
    expect((await tight.call('GET', '/v1/apps/web/logs', key)).status).toBe(200);
  });

  it('shows a pod in its termination grace as stopping, and counts it no more among the ready replicas', async () => {
    const { call, key, pass } = setup;
    const app = { ...sampleApp('web'), runtime: 'eks', replicas: 2 };
    expect((await call('POST', '/v1/apps', key, app)).status).toBe(201);
    await pass();
    await pass();
    expect((await call('GET', '/v1/apps/web', key)).json).toMatchObject({
      status: 'running',
      readyReplicas: 2,
    });
    // Scaled in, one pod is deleted and runs on through its grace, ready as the kubelet still reports it.
    kube.holdGraces();
    expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 1 })).status).toBe(200);
    await pass();
    await pass();
    const health = async () =>
      ((await call('GET', '/v1/apps/web/instances', key)).json.items as Record<string, unknown>[])
        .map((i) => `${i.state} ${i.health}`)
        .sort();
    expect(await health()).toEqual(['running healthy', 'running stopping']);
    expect((await call('GET', '/v1/apps/web', key)).json).toMatchObject({ replicas: 1, readyReplicas: 1 });
    kube.endGraces();
    await pass();
    expect(await health()).toEqual(['running healthy']);
  });

  it("ends a buffered log body by its size in the Lambda's answer, where JSON escapes each control character", async () => {
    const { call, key } = setup;
    const { namespace, name } = await runningPod();
    const coloured = '\x1b[32mserved /\x1b[39m';
    kube.say(namespace, name, coloured);
    const whole = (await call('GET', '/v1/apps/web/logs', key)).text;
    expect(whole.endsWith(`${coloured}\n`)).toBe(true);
    // Its bytes fit; in the Lambda's answer, where a newline takes 2 bytes and an ESC 6, the coloured line does not.
    setup.deps.bufferedAnswers = { waitMs: 200, maxBodyBytes: Buffer.byteLength(whole) };
    const capped = (await call('GET', '/v1/apps/web/logs', key)).text;
    expect(capped).toBe(whole.slice(0, whole.lastIndexOf('\n', whole.length - 2) + 1));
    setup.deps.bufferedAnswers = { waitMs: 200, maxBodyBytes: bodyBytesCarried(whole) };
    expect((await call('GET', '/v1/apps/web/logs', key)).text).toBe(whole);
  });

  it("follows an EKS pod's log by asking again every 2 s for its last seconds, each line once", async () => {
    const { call, key } = setup;
    const { namespace, name } = await runningPod();
    setup.deps.bufferedAnswers = { waitMs: 3_000, maxBodyBytes: 5 * 1024 * 1024 };
    const before = kube.requests.length;
    const followed = call('GET', '/v1/apps/web/logs?follow=true&tail=10', key);
    setTimeout(() => kube.say(namespace, name, 'served /'), 500);
    const lines = (await followed).text.split('\n').filter(Boolean);
    expect(lines.map((line) => line.split(' ').slice(3).join(' '))).toEqual([
      'listening',
      'ready',
      'served /',
    ]);
    const asked = kube.requests.slice(before).filter((r) => r.path.includes('/log'));
    expect(asked.map((r) => r.query)).toEqual([
      { container: 'app', tailLines: '10', timestamps: 'true' },
      { container: 'app', sinceSeconds: '3', timestamps: 'true' },
    ]);
  });

  it('answers 503 for an app on a runtime this process cannot see, and still serves the app itself', async () => {
    const { call, key } = setup;
    await call('POST', '/v1/apps', key, { ...sampleApp('tasks'), runtime: 'fargate' });
    const res = await call('GET', '/v1/apps/tasks/instances', key);
    expect(res).toMatchObject({ status: 503, json: { code: 'unavailable' } });
    expect(res.json.detail).toContain('fargate');
    expect((await call('GET', '/v1/apps/tasks', key)).status).toBe(200);
  });

  it('answers 503 with Retry-After while the API server fails, not 500', async () => {
    const { call, key, pass } = setup;
    expect((await call('POST', '/v1/apps', key, { ...sampleApp('web'), runtime: 'eks' })).status).toBe(201);
    await pass();
    kube.answerNext(503, 1);
    const res = await call('GET', '/v1/apps/web/instances', key);
    expect(res).toMatchObject({ status: 503, json: { code: 'unavailable' } });
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await call('GET', '/v1/apps/web/instances', key)).status).toBe(200);
  });
});
