import { beforeEach, describe, expect, it, vi } from 'vitest';
import { appHostname } from '../../../functions/core/app-hosts.ts';
import {
  autoscaleTo,
  createApp,
  deleteApp,
  getApp,
  getAppRecord,
  restartApp,
  scaleApp,
  startApp,
  stopApp,
  updateApp,
} from '../../../functions/core/apps.ts';
import {
  deploy,
  listDeployments,
  listRevisions,
  rollBackFailed,
  rollback,
} from '../../../functions/core/deployments.ts';
import { createPlan } from '../../../functions/core/plans.ts';
import { createTenant, getTenantOverview, updateTenant } from '../../../functions/core/tenants.ts';
import { AppCreate, AppPatch, DeploymentCreate } from '../../../schemas/app.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';
import { digestOf, pushedImage } from '../../support/pushed-images.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('apps', () => {
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>>;
  beforeEach(async () => {
    deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
  });

  /** Acme's web as a pass that saw `revision` live left it (the reconciler is not part of these tests). */
  const live = (revision: number) => {
    const app = deps.store.apps.get('acme/web');
    if (!app) throw new Error('no app');
    app.currentRevision = revision;
  };

  it('creates revision 1 and a pending deployment with the app', async () => {
    const { app, deployment } = await createApp(deps, 'acme', { name: 'web', ...spec });
    expect(app).toMatchObject({
      status: 'deploying',
      latestRevision: 1,
      generation: 1,
      observedGeneration: 0,
      replicas: 1,
    });
    expect(app.url).toBe('http://web.acme.localhost:8000');
    expect(deployment).toMatchObject({ revision: 1, status: 'pending', trigger: 'create' });
  });

  it('makes a new revision only when what a replica runs changes', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    const scaled = await updateApp(deps, 'acme', 'web', { replicas: 2 });
    expect(scaled).toMatchObject({ latestRevision: 1, generation: 2, replicas: 2 });
    const changed = await updateApp(deps, 'acme', 'web', { env: { LOG_LEVEL: 'debug' } });
    expect(changed).toMatchObject({ latestRevision: 2, targetRevision: 2, generation: 3 });
    const same = await updateApp(deps, 'acme', 'web', { env: { LOG_LEVEL: 'debug' } });
    expect(same.latestRevision).toBe(2);
    // null clears env, as it clears every optional field; clearing what is already clear changes nothing.
    const cleared = await updateApp(deps, 'acme', 'web', { env: null, command: null });
    expect(cleared).toMatchObject({ latestRevision: 3, env: {}, command: null });
    expect((await updateApp(deps, 'acme', 'web', { env: {} })).latestRevision).toBe(3);
  });

  it('scales an app without asking the registry, and resolves the image again for a new revision', async () => {
    deps.registry.digests.set('acme/web:1', 'sha256:one');
    await createApp(deps, 'acme', { name: 'web', ...spec, image: '127.0.0.1:5000/acme/web:1' });
    deps.registry.digests.delete('acme/web:1'); // the tag is gone from the registry
    expect(await updateApp(deps, 'acme', 'web', { replicas: 2, scaling: null })).toMatchObject({
      replicas: 2,
    });
    await expect(updateApp(deps, 'acme', 'web', { env: { A: '1' } })).rejects.toMatchObject({
      code: 'validation.failed',
    });
  });

  it("pins the platforms the registry says an image is built for with each revision's digest", async () => {
    deps.registry.digests.set('acme/web:1', 'sha256:one');
    deps.registry.digests.set('acme/web:2', 'sha256:two');
    deps.registry.platforms.set('sha256:one', ['linux/amd64', 'linux/arm64']);
    await createApp(deps, 'acme', { name: 'web', ...spec, image: '127.0.0.1:5000/acme/web:1' });
    await updateApp(deps, 'acme', 'web', { image: '127.0.0.1:5000/acme/web:2' });
    await updateApp(deps, 'acme', 'web', { image: spec.image });
    const { uid } = await getAppRecord(deps, 'acme', 'web');
    const pinned = (await listRevisions(deps, 'acme', 'web', { limit: 10 })).items.map((r) => [
      r.number,
      r.imageDigest,
      r.imagePlatforms,
    ]);
    // Platforms not said, and an image from another registry (never fetched), are not known: null.
    expect(pinned).toEqual(
      expect.arrayContaining([
        [1, 'sha256:one', ['linux/amd64', 'linux/arm64']],
        [2, 'sha256:two', null],
        [3, null, null],
      ]),
    );
    // A revision made before Berth read platforms answers null too.
    const stored = deps.store.revisions.get(`acme/${uid}/1`);
    delete stored?.imagePlatforms;
    expect((await listRevisions(deps, 'acme', 'web', { limit: 10 })).items).toContainEqual(
      expect.objectContaining({ number: 1, imagePlatforms: null }),
    );
  });

  it('runs an image whose registry says no platform on a runtime of fixed platforms, which decides; not one built for another', async () => {
    const aws = { ...deps, runtimes: ['fargate'] as const, platforms: { fargate: ['linux/amd64'] } };
    deps.registry.digests.set('acme/web:1', 'sha256:one');
    deps.registry.digests.set('acme/web:2', 'sha256:two');
    deps.registry.platforms.set('sha256:two', ['linux/arm']);
    const image = (tag: string) => `127.0.0.1:5000/acme/web:${tag}`;
    await createApp(aws, 'acme', { name: 'web', ...spec, image: image('1'), runtime: 'fargate' });
    await expect(updateApp(aws, 'acme', 'web', { image: image('2') })).rejects.toMatchObject({
      code: 'validation.failed',
      message: `image "${image('2')}" is built for linux/arm, but apps on fargate run on linux/amd64: build it for linux/amd64 (docker build --platform linux/amd64) and push it again`,
    });
  });

  it('keeps an app on the runtime it was created on: a change is refused and loses nothing', async () => {
    const aws = { ...deps, runtimes: ['fargate', 'eks'] as const };
    await createApp(aws, 'acme', { name: 'web', ...spec, runtime: 'fargate' });
    await expect(updateApp(aws, 'acme', 'web', { runtime: 'eks', replicas: 2 })).rejects.toMatchObject({
      code: 'validation.failed',
      message: 'runtime cannot change: the app runs on fargate; create another app to run on eks',
      errors: [{ path: 'runtime' }],
    });
    expect(await getApp(aws, 'acme', 'web')).toMatchObject({ latestRevision: 1, generation: 1, replicas: 1 });
    // A runtime the install does not offer is refused as such first.
    await expect(updateApp(deps, 'acme', 'web', { runtime: 'eks' })).rejects.toMatchObject({
      message: 'runtime "eks" is not offered by this install; use one of docker',
    });
    // Naming the runtime it already runs on is no change.
    expect(await updateApp(aws, 'acme', 'web', { runtime: 'fargate', replicas: 2 })).toMatchObject({
      replicas: 2,
      latestRevision: 1,
    });
  });

  it('sets env, healthCheck and scaling each whole on a PATCH and a deploy: what one leaves out is dropped', async () => {
    // As the API hands them over: parsed by the request bodies' schemas, their defaults filled in.
    await createApp(
      deps,
      'acme',
      await AppCreate.parseAsync({
        name: 'web',
        ...spec,
        env: { A: '1', B: '2' },
        healthCheck: { path: '/healthz', intervalSeconds: 30 },
        scaling: { min: 1, max: 2, targetCpuPercent: 60 },
      }),
    );
    const patch = { env: { C: '3' }, healthCheck: { intervalSeconds: 5 }, scaling: { min: 2, max: 2 } };
    const patched = await updateApp(deps, 'acme', 'web', await AppPatch.parseAsync(patch));
    expect(patched.env).toEqual({ C: '3' });
    expect(patched.healthCheck).toEqual({
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
      gracePeriodSeconds: 10,
    });
    expect(patched.scaling).toEqual({ min: 2, max: 2 });
    const redeploy = { healthCheck: { path: '/ready' }, env: { D: '4' } };
    await deploy(deps, 'acme', 'web', await DeploymentCreate.parseAsync(redeploy));
    expect(await getApp(deps, 'acme', 'web')).toMatchObject({
      env: { D: '4' },
      healthCheck: { path: '/ready', intervalSeconds: 10 },
    });
    const cleared = await updateApp(deps, 'acme', 'web', { env: null, healthCheck: null, scaling: null });
    expect(cleared).toMatchObject({ env: {}, healthCheck: null, scaling: null });
  });

  it('checks the merged spec against the Fargate table', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await expect(updateApp(deps, 'acme', 'web', { cpu: 1 })).rejects.toMatchObject({
      code: 'validation.failed',
      message: expect.stringContaining('valid values: 2048, 3072'),
    });
  });

  it('takes only the sizes the install offers, naming the field', async () => {
    deps.sizes = { cpus: [0.25, 0.5], maxMemoryMiB: 2048 };
    await expect(
      createApp(deps, 'acme', { name: 'big', ...spec, cpu: 1, memory: 2048 }),
    ).rejects.toMatchObject({
      code: 'validation.failed',
      errors: [{ path: 'cpu', message: 'cpu 1 is not offered here; offered: 0.25, 0.5' }],
    });
    await expect(
      createApp(deps, 'acme', { name: 'big', ...spec, cpu: 0.5, memory: 3072 }),
    ).rejects.toMatchObject({
      errors: [{ path: 'memory', message: 'memory 3072 MiB is more than offered here (at most 2048)' }],
    });
    await createApp(deps, 'acme', { name: 'web', ...spec, cpu: 0.5, memory: 2048 });
    await expect(updateApp(deps, 'acme', 'web', { memory: 4096 })).rejects.toMatchObject({
      errors: [{ path: 'memory' }],
    });
  });

  it('refuses to cross the plan limits and lets shrinking through', async () => {
    // free: 1 vCPU, 2048 MiB, 2 instances per app
    await expect(createApp(deps, 'acme', { name: 'a', ...spec, replicas: 3 })).rejects.toMatchObject({
      code: 'quota.exceeded',
      message: 'plan "free" allows 2 instances per app; 3 were asked for',
    });
    await createApp(deps, 'acme', { name: 'a', ...spec, replicas: 2 });
    await createApp(deps, 'acme', { name: 'b', ...spec, replicas: 2 });
    await expect(createApp(deps, 'acme', { name: 'c', ...spec })).rejects.toMatchObject({
      code: 'quota.exceeded',
      message: 'plan "free" allows 1 vCPU in total, 1 reserved already; this needs 0.25 more',
    });
    await expect(scaleApp(deps, 'acme', 'a', 3)).rejects.toMatchObject({ code: 'quota.exceeded' });
    await scaleApp(deps, 'acme', 'a', 1);
    const overview = await getTenantOverview(deps, 'acme');
    expect(overview.usage.vcpu).toEqual({ used: 0.75, limit: 1 });
    expect(overview.usage.memoryMiB).toEqual({ used: 1536, limit: 2048 });
  });

  it('keeps a stopped app stopped through a change, a deploy and a rollback, holding nothing, until it is started', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec, replicas: 2 });
    await stopApp(deps, 'acme', 'web');
    const changed = await updateApp(deps, 'acme', 'web', { env: { A: '1' } });
    expect(changed).toMatchObject({ status: 'stopped', latestRevision: 2, targetRevision: 2 });
    expect((await deploy(deps, 'acme', 'web', { env: { A: '2' } })).status).toBe('pending');
    expect((await rollback(deps, 'acme', 'web', 2)).status).toBe('pending');
    expect(await getApp(deps, 'acme', 'web')).toMatchObject({ status: 'stopped', targetRevision: 2 });
    expect((await getTenantOverview(deps, 'acme')).usage.vcpu.used).toBe(0);
    expect(deps.store.events.slice(-3).map((e) => e.message)).toEqual([
      'deploying revision 2 (update) once the app is started: it is stopped',
      'deploying revision 3 (deploy) once the app is started: it is stopped',
      'deploying revision 2 (rollback) once the app is started: it is stopped',
    ]);
    // Started, it runs what it was last moved to, and holds its replicas again.
    expect(await startApp(deps, 'acme', 'web')).toMatchObject({ status: 'deploying', targetRevision: 2 });
    expect((await getTenantOverview(deps, 'acme')).usage.vcpu.used).toBe(0.5);
  });

  it('writes nothing for a change to what the app already is, so its version (and ETag) stays', async () => {
    const { app: created } = await createApp(deps, 'acme', { name: 'web', ...spec, replicas: 2 });
    expect(await scaleApp(deps, 'acme', 'web', 2)).toEqual(created);
    expect(await updateApp(deps, 'acme', 'web', {}, [created.version])).toEqual(created);
    expect(await updateApp(deps, 'acme', 'web', { port: 8080, replicas: 2 })).toEqual(created);
    await stopApp(deps, 'acme', 'web');
    const stopped = await getApp(deps, 'acme', 'web');
    expect(await stopApp(deps, 'acme', 'web')).toEqual(stopped);
    expect(stopped.version).toBe(created.version + 1);
    expect(await scaleApp(deps, 'acme', 'web', 1)).toMatchObject({ version: created.version + 2 });
  });

  it('says what a plan allows in words that read right: one app, the memory reserved already', async () => {
    await createPlan(deps, {
      id: 'solo',
      name: 'Solo',
      limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 2048 },
    });
    await createTenant(deps, { id: 'solo', name: 'Solo', plan: 'solo' });
    await createApp(deps, 'solo', { name: 'a', ...spec });
    await expect(createApp(deps, 'solo', { name: 'b', ...spec })).rejects.toMatchObject({
      code: 'quota.exceeded',
      message:
        'plan "solo" allows one app, and one exists (an app being deleted counts until its replicas are gone); ' +
        'delete an app or move to a larger plan',
    });
    await expect(updateApp(deps, 'solo', 'a', { memory: 4096, cpu: 1 })).rejects.toMatchObject({
      code: 'quota.exceeded',
      message: 'plan "solo" allows 2048 MiB in total, 512 reserved already; this needs 3584 more',
    });
  });

  it('gives vCPU and memory back when an app is deleted, and its app slot once it is gone', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec, replicas: 2 });
    const deleting = await deleteApp(deps, 'acme', 'web');
    expect(deleting.status).toBe('deleting');
    const usage = (await getTenantOverview(deps, 'acme')).usage;
    expect(usage).toMatchObject({ apps: { used: 1 }, vcpu: { used: 0 }, memoryMiB: { used: 0 } });
    await expect(scaleApp(deps, 'acme', 'web', 1)).rejects.toMatchObject({ code: 'app.deleting' });
    // Its name frees up once it is gone, and a create says so rather than offering to change it.
    await expect(createApp(deps, 'acme', { name: 'web', ...spec })).rejects.toMatchObject({
      code: 'app.deleting',
      message: 'app "web" is still being deleted; create it again once GET /v1/apps/web answers 404',
    });
    // Deleting it again (a retry after a lost answer) is no error: it answers the deletion under way.
    expect(await deleteApp(deps, 'acme', 'web')).toMatchObject({
      status: 'deleting',
      version: deleting.version,
    });
    await expect(deleteApp(deps, 'acme', 'web', [deleting.version - 1])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
    const record = await deps.store.getApp('acme', 'web');
    if (!record) throw new Error('the app should still exist until its replicas are gone');
    await deps.store.finalizeAppDeletion(record);
    expect((await getTenantOverview(deps, 'acme')).usage.apps.used).toBe(0);
  });

  it("refuses a suspended tenant's writes, except deleting an app", async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await updateTenant(deps, 'acme', { status: 'suspended' });
    await expect(scaleApp(deps, 'acme', 'web', 2)).rejects.toMatchObject({ code: 'tenant.suspended' });
    await expect(createApp(deps, 'acme', { name: 'b', ...spec })).rejects.toMatchObject({
      code: 'tenant.suspended',
    });
    expect(await deleteApp(deps, 'acme', 'web')).toMatchObject({ status: 'deleting' });
    expect((await getTenantOverview(deps, 'acme')).usage.vcpu.used).toBe(0);
  });

  it('reads the app and its tenant at once for a change, and still answers for the app first', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    // Both reads go through one counter: it sees them in flight together.
    const reads = overlapCounter((read: () => Promise<unknown>) => read(), 5);
    const counted = <R>(read: () => Promise<R>) => reads.call(read) as Promise<R>;
    const { getApp: readApp, getTenant: readTenant } = deps.store;
    deps.store.getApp = (tenantId, name) => counted(() => readApp.call(deps.store, tenantId, name));
    deps.store.getTenant = (id) => counted(() => readTenant.call(deps.store, id));
    await scaleApp(deps, 'acme', 'web', 2);
    expect(reads.most).toBe(2);
    await updateTenant(deps, 'acme', { status: 'suspended' });
    // A missing app of a suspended tenant is a 404, and a stale If-Match a 412, as when the reads came in turn.
    await expect(scaleApp(deps, 'acme', 'nope', 2)).rejects.toMatchObject({ code: 'app.notFound' });
    await expect(scaleApp(deps, 'acme', 'web', 1, [1])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
    await expect(scaleApp(deps, 'acme', 'web', 1)).rejects.toMatchObject({ code: 'tenant.suspended' });
  });

  it('reads the app once for a deploy, a spec change and a rollback, whose image is resolved from that read', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    const reads = vi.spyOn(deps.store, 'getApp');
    const once = async (change: () => Promise<unknown>) => {
      reads.mockClear();
      await change();
      expect(reads).toHaveBeenCalledTimes(1);
    };
    await once(() => deploy(deps, 'acme', 'web', { env: { A: '1' } }));
    await once(() => updateApp(deps, 'acme', 'web', { env: { A: '2' } }));
    await once(() => rollback(deps, 'acme', 'web', 1));
  });

  it('keeps a change that lands between the read a deploy resolves its image from and its write', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    const { getApp: readApp } = deps.store;
    /** Runs once, right after the next read of the app: another request's change, landing meanwhile. */
    let meanwhile: (() => Promise<unknown>) | undefined;
    deps.store.getApp = async (tenantId, name) => {
      const read = await readApp.call(deps.store, tenantId, name);
      const change = meanwhile;
      meanwhile = undefined;
      await change?.();
      return read;
    };
    meanwhile = () => scaleApp(deps, 'acme', 'web', 2);
    const deployment = await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    expect(deployment.revision).toBe(2);
    // The deploy's first write failed on the app's version and it read afresh: the scale is not lost.
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      replicas: 2,
      targetRevision: 2,
      spec: { env: { A: '1' } },
    });
    // With If-Match, the version the caller named is stale by the write: 412, and nothing of the change written.
    const { version } = await getAppRecord(deps, 'acme', 'web');
    meanwhile = () => scaleApp(deps, 'acme', 'web', 1);
    await expect(updateApp(deps, 'acme', 'web', { env: { A: '2' } }, [version])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      replicas: 1,
      latestRevision: 2,
      spec: { env: { A: '1' } },
    });
  });

  it('refuses autoscaling bounds past the plan, but keeps those set before a move to a smaller plan', async () => {
    // free: 2 instances per app
    await expect(
      createApp(deps, 'acme', { name: 'web', ...spec, scaling: { min: 1, max: 3 } }),
    ).rejects.toMatchObject({
      code: 'quota.exceeded',
      message: 'plan "free" allows 2 instances per app; scaling.max is 3',
    });
    await createApp(deps, 'acme', { name: 'web', ...spec, scaling: { min: 1, max: 2 } });
    const nightly = { cron: '0 22 * * *', timezone: 'UTC', min: 1, max: 4 };
    await expect(
      updateApp(deps, 'acme', 'web', { scaling: { min: 1, max: 2, schedules: [nightly] } }),
    ).rejects.toMatchObject({
      message: 'plan "free" allows 2 instances per app; scaling.schedules[0].max is 4',
    });

    await createPlan(deps, {
      id: 'one',
      name: 'One',
      limits: { apps: 3, instancesPerApp: 1, vcpu: 1, memoryMiB: 2048 },
    });
    await updateTenant(deps, 'acme', { plan: 'one' });
    expect(await updateApp(deps, 'acme', 'web', { env: { A: '1' } })).toMatchObject({ scaling: { max: 2 } });
    await expect(scaleApp(deps, 'acme', 'web', 2)).rejects.toMatchObject({
      message: 'plan "one" allows 1 instance per app; 2 were asked for',
    });
  });

  it('stamps each change of an app with its time, and a change of nothing with none', async () => {
    const { app } = await createApp(deps, 'acme', { name: 'web', ...spec });
    deps.clock.advance(60_000);
    const scaled = await scaleApp(deps, 'acme', 'web', 2);
    expect(scaled).toMatchObject({ createdAt: app.createdAt, updatedAt: deps.clock.now().toISOString() });
    deps.clock.advance(60_000);
    expect(await scaleApp(deps, 'acme', 'web', 2)).toEqual(scaled);
  });

  it('keeps replicas within scaling.min..max', async () => {
    const scaling = { min: 1, max: 2 };
    await expect(
      createApp(deps, 'acme', { name: 'web', ...spec, replicas: 0, scaling }),
    ).rejects.toMatchObject({
      code: 'validation.failed',
      message: 'replicas 0 lies outside scaling.min..max (1..2); change scaling or remove it',
    });
    await createApp(deps, 'acme', { name: 'web', ...spec, scaling });
    await expect(scaleApp(deps, 'acme', 'web', 0)).rejects.toMatchObject({
      code: 'validation.failed',
      message: expect.stringContaining('scaling.min..max (1..2)'),
    });
  });

  it("leaves the count a schedule holds to a patch that sets no scaling, and takes a schedule's bounds at once when set", async () => {
    const night = { cron: '* * * * *', min: 0, max: 0 };
    await createApp(deps, 'acme', {
      name: 'web',
      ...spec,
      replicas: 2,
      scaling: { min: 1, max: 2, schedules: [night] },
    });
    // What the scale job does while the schedule is in force.
    const why = { reason: 'above the maximum 0 of schedule "* * * * *"' };
    const held = await autoscaleTo(deps, await getAppRecord(deps, 'acme', 'web'), 0, why);
    // Neither an empty patch nor a change of env starts a replica the schedule would stop again.
    expect(await updateApp(deps, 'acme', 'web', {})).toMatchObject({ replicas: 0, version: held.version });
    expect(await updateApp(deps, 'acme', 'web', { env: { A: '1' } })).toMatchObject({
      replicas: 0,
      latestRevision: 2,
    });
    const morning = { cron: '* * * * *', min: 2, max: 2 };
    const scaling = { min: 1, max: 2, schedules: [morning] };
    expect(await updateApp(deps, 'acme', 'web', { scaling })).toMatchObject({ replicas: 2 });
    // A count named is the tenant's, within scaling.min..max, as POST /scale takes it.
    await expect(updateApp(deps, 'acme', 'web', { replicas: 0 })).rejects.toMatchObject({
      code: 'validation.failed',
    });
    // Named with new scaling, the count is not the schedule's doing, and its event does not say it is.
    const day = { min: 1, max: 2, schedules: [{ ...morning, min: 1 }] };
    expect(await updateApp(deps, 'acme', 'web', { replicas: 1, scaling: day })).toMatchObject({
      replicas: 1,
    });
    // Created while a schedule holds apps at zero, an app starts at zero; by default within the bounds in force.
    const { app: dark } = await createApp(deps, 'acme', {
      name: 'dark',
      ...spec,
      scaling: { min: 1, max: 2, schedules: [night] },
    });
    expect(dark.replicas).toBe(0);
    expect(deps.store.events.filter((e) => e.type === 'scaled').map((e) => e.message)).toEqual([
      'autoscaled from 2 to 0 replicas: above the maximum 0 of schedule "* * * * *"',
      'autoscaling set to 1–2 replicas, with 1 schedule; scaled from 0 to 2 replicas: schedule "* * * * *" is in force',
      'autoscaling set to 1–2 replicas, with 1 schedule; scaled from 2 to 1 replica',
    ]);
  });

  it('starts a stopped app with its count within the bounds in force, which a schedule may have moved since', async () => {
    const schedules = [
      { cron: '0 20 * * *', min: 0, max: 0 },
      { cron: '0 8 * * *', min: 2, max: 2 },
    ];
    // 10:00, the clock's start: the morning's bounds hold.
    await createApp(deps, 'acme', { name: 'web', ...spec, scaling: { min: 1, max: 2, schedules } });
    expect((await stopApp(deps, 'acme', 'web')).replicas).toBe(2);
    deps.clock.advance(11 * 3_600_000); // 21:00
    expect(await startApp(deps, 'acme', 'web')).toMatchObject({ status: 'deploying', replicas: 0 });
  });

  it('fails a stale If-Match with precondition.failed', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await scaleApp(deps, 'acme', 'web', 2, [1]);
    await expect(scaleApp(deps, 'acme', 'web', 1, [1])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
  });

  it('refuses to restart an app with nothing running, saying what starts it: stopped, or failed to deploy', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await stopApp(deps, 'acme', 'web');
    await expect(restartApp(deps, 'acme', 'web')).rejects.toMatchObject({
      code: 'app.stopped',
      message: 'app "web" is stopped; start it instead',
    });
    await startApp(deps, 'acme', 'web');
    // What a reconcile pass writes once the first deployment failed.
    const started = await getAppRecord(deps, 'acme', 'web');
    await deps.store.writeRollout({
      app: { record: { ...started, status: 'failed' }, read: started },
    });
    await expect(restartApp(deps, 'acme', 'web')).rejects.toMatchObject({
      code: 'app.failed',
      message:
        'app "web" failed to deploy and nothing of it runs to restart; POST /v1/apps/web/deployments tries its revision again, or deploy a fixed one',
    });
    expect(deps.store.events.map((e) => e.type)).not.toContain('restarted');
  });

  it('says, when it scales an app none of whose replicas run, when they will', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await stopApp(deps, 'acme', 'web');
    await scaleApp(deps, 'acme', 'web', 2);
    await startApp(deps, 'acme', 'web');
    // What a reconcile pass writes once the deployment failed.
    const started = await getAppRecord(deps, 'acme', 'web');
    await deps.store.writeRollout({
      app: { record: { ...started, status: 'failed' }, read: started },
    });
    await updateApp(deps, 'acme', 'web', { replicas: 1 });
    expect(deps.store.events.filter((e) => e.type === 'scaled').map((e) => e.message)).toEqual([
      'scaled from 1 to 2 replicas; they run once the app is started',
      'scaled from 2 to 1 replica; it runs once a deployment succeeds (its last failed)',
    ]);
  });

  it("says what each change did in the app's events, written with it, and nothing for a change of nothing", async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await scaleApp(deps, 'acme', 'web', 2);
    await scaleApp(deps, 'acme', 'web', 2);
    await updateApp(deps, 'acme', 'web', { scaling: { min: 1, max: 2, targetCpuPercent: 60 } });
    await updateApp(deps, 'acme', 'web', { scaling: null, replicas: 1 });
    await updateApp(deps, 'acme', 'web', { replicas: 2 });
    await updateApp(deps, 'acme', 'web', { scaling: { min: 1, max: 1, targetCpuPercent: 60 } });
    const schedule = { cron: '0 8 * * MON-FRI', min: 1, max: 1 };
    await updateApp(deps, 'acme', 'web', {
      scaling: {
        min: 1,
        max: 1,
        targetCpuPercent: 60,
        targetMemoryPercent: 70,
        schedules: [schedule, schedule],
      },
    });
    await updateApp(deps, 'acme', 'web', { scaling: { min: 1, max: 1, schedules: [schedule] } });
    // A PATCH sets scaling whole: one that leaves out every target and schedule leaves nothing to scale by.
    await updateApp(deps, 'acme', 'web', { scaling: { min: 1, max: 1 } });
    await updateApp(deps, 'acme', 'web', { env: { A: '1' } });
    await deploy(deps, 'acme', 'web', {});
    await rollback(deps, 'acme', 'web', 1);
    await stopApp(deps, 'acme', 'web');
    await stopApp(deps, 'acme', 'web');
    await startApp(deps, 'acme', 'web');
    await restartApp(deps, 'acme', 'web');
    // Refused (outside the autoscaling bounds), a change says nothing.
    await expect(scaleApp(deps, 'acme', 'web', 9)).rejects.toMatchObject({ code: 'validation.failed' });
    await deleteApp(deps, 'acme', 'web');
    await deleteApp(deps, 'acme', 'web');
    expect(deps.store.events.map((e) => [e.type, e.message])).toEqual([
      ['deploying', 'deploying revision 1 (create)'],
      ['scaled', 'scaled from 1 to 2 replicas'],
      ['scaled', 'autoscaling set to 1–2 replicas, tracking CPU at 60 %'],
      ['scaled', 'autoscaling turned off; scaled from 2 to 1 replica'],
      ['scaled', 'scaled from 1 to 2 replicas'],
      // The bounds move the replicas into them.
      ['scaled', 'autoscaling set to 1 replica, tracking CPU at 60 %; scaled from 2 to 1 replica'],
      ['scaled', 'autoscaling set to 1 replica, tracking CPU at 60 % and memory at 70 % with 2 schedules'],
      ['scaled', 'autoscaling set to 1 replica, with 1 schedule'],
      ['scaled', 'autoscaling set to 1 replica, with no target or schedule: the count stays where it is set'],
      ['deploying', 'deploying revision 2 (update)'],
      ['deploying', 'deploying revision 3 (deploy)'],
      ['deploying', 'deploying revision 1 (rollback)'],
      ['stopped', 'stopped: its replicas stop'],
      // Stopped before revision 1 went live again: starting deploys it anew.
      ['started', 'started with revision 1'],
      ['restarted', 'restarting: every replica is replaced, new ones first'],
      // Asked twice, it is deleted once; its events go with it once it is gone.
      ['deleting', 'deleting: its replicas stop, then the app goes'],
    ]);
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(deps.store.events.every((e) => e.tenantId === 'acme' && e.appUid === app.uid)).toBe(true);
    const [startedWith, rolledBackWith] = (await listDeployments(deps, 'acme', 'web', { limit: 2 })).items;
    expect(startedWith?.trigger).toBe('start');
    const eventOf = (message: string) => deps.store.events.find((e) => e.message === message);
    expect(eventOf('started with revision 1')?.details).toEqual({ revision: 1, deployment: startedWith?.id });
    expect(eventOf('deploying revision 1 (rollback)')?.details).toEqual({
      deployment: rolledBackWith?.id,
      revision: 1,
      trigger: 'rollback',
    });
  });

  describe("the platform's rollback of a failed deployment", () => {
    /**
     * Revision 1 serving, and revision 2's deployment open: the app as a pass reads it, and that deployment as the
     * pass found it failed (`failing`, the end rollBackFailed writes).
     */
    async function failingOverServing(change: DeploymentCreate = { env: { A: '1' } }) {
      const created = await getAppRecord(deps, 'acme', 'web');
      await deps.store.writeRollout({
        app: { record: { ...created, currentRevision: 1 }, read: created },
      });
      const attempt = await deploy(deps, 'acme', 'web', change);
      const open = await deps.store.getDeployment('acme', created.uid, attempt.id);
      if (!open) throw new Error('the deploy made no deployment');
      const failing = {
        record: { ...open, status: 'failed' as const, reason: '3 replicas failed' },
        read: open,
      };
      return { app: await getAppRecord(deps, 'acme', 'web'), failing };
    }

    it('ends the deployment rolled_back and takes the app back, in one write; a rollback the tenant asks for deploys', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      const { app, failing } = await failingOverServing();
      // What the pass observed of the app is written with the rollback.
      const observed = { ...app, readyReplicas: 1, observedGeneration: app.generation };
      const back = await rollBackFailed(deps, observed, failing);
      // The platform's own: no key asked for it.
      expect(back).toMatchObject({ revision: 1, trigger: 'rollback', createdBy: null });
      expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
        targetRevision: 1,
        spec: { env: {} },
        readyReplicas: 1,
        observedGeneration: app.generation,
      });
      expect(await deps.store.getDeployment('acme', app.uid, failing.record.id)).toMatchObject({
        status: 'rolled_back',
        reason: `3 replicas failed; rolled back to revision 1 (${back?.id})`,
      });
      expect(deps.store.events.at(-1)).toMatchObject({
        type: 'rolledBack',
        message: 'deployment of revision 2 failed: 3 replicas failed; rolled back to revision 1',
        details: { deployment: back?.id, failed: failing.record.id, revision: 1 },
      });
      expect(deps.store.events.at(-1)?.details).not.toHaveProperty('by');
      await rollback(deps, 'acme', 'web', 2);
      expect(deps.store.events.at(-1)).toMatchObject({ type: 'deploying', details: { trigger: 'rollback' } });
    });

    it('writes none of it when the deployment moved on meanwhile (another pass ended it)', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      const { app, failing } = await failingOverServing();
      await deps.store.updateDeployment({ ...failing.record, status: 'in_progress' }, failing.read);
      const before = { app: await getAppRecord(deps, 'acme', 'web'), events: deps.store.events.length };
      expect(await rollBackFailed(deps, app, failing)).toBeUndefined();
      expect({ app: await getAppRecord(deps, 'acme', 'web'), events: deps.store.events.length }).toEqual(
        before,
      );
      expect(await deps.store.getDeployment('acme', app.uid, failing.record.id)).toMatchObject({
        status: 'in_progress',
      });
    });

    it('writes none of it for an app deleted meanwhile, whose replicas and deployments go', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      const { app, failing } = await failingOverServing();
      await deleteApp(deps, 'acme', 'web');
      expect(await rollBackFailed(deps, app, failing)).toBeUndefined();
      expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
        status: 'deleting',
        targetRevision: 2,
      });
    });

    it("is not refused by the plan's limits, as the revision it goes back to still runs", async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec, cpu: 0.5, memory: 1024 });
      const { failing } = await failingOverServing({ cpu: 0.25, memory: 512 });
      // The free plan's 1 vCPU: the room the smaller revision left is taken meanwhile.
      await createApp(deps, 'acme', { name: 'api', ...spec, cpu: 0.5, memory: 1024 });
      await createApp(deps, 'acme', { name: 'job', ...spec });
      await expect(updateApp(deps, 'acme', 'job', { cpu: 0.5, memory: 1024 })).rejects.toMatchObject({
        code: 'quota.exceeded',
      });

      const back = await rollBackFailed(deps, await getAppRecord(deps, 'acme', 'web'), failing);
      expect(back).toMatchObject({ revision: 1 });
      expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ spec: { cpu: 0.5, memory: 1024 } });
      expect((await deps.store.getTenant('acme'))?.reserved).toMatchObject({ vcpuMilli: 1250 });
      // The tenant is over its plan: what would add more is refused, as after a move to a smaller plan.
      await expect(scaleApp(deps, 'acme', 'job', 2)).rejects.toMatchObject({ code: 'quota.exceeded' });
    });

    it.each([
      ['a deploy', () => deploy(deps, 'acme', 'web', { env: { A: '2' } })],
      ['a scale', () => scaleApp(deps, 'acme', 'web', 2)],
      ['a stop', () => stopApp(deps, 'acme', 'web')],
    ])('undoes nothing the tenant did since the app was read: %s', async (_, meanwhile) => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      const { app, failing } = await failingOverServing();
      await meanwhile();
      const before = await getAppRecord(deps, 'acme', 'web');
      expect(await rollBackFailed(deps, app, failing)).toBeUndefined();
      expect(await getAppRecord(deps, 'acme', 'web')).toEqual(before);
      expect(await deps.store.getDeployment('acme', app.uid, failing.record.id)).toEqual(failing.read);
    });
  });

  it('rolls back to an older revision without making a new one', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    const back = await rollback(deps, 'acme', 'web', 1);
    expect(back).toMatchObject({ revision: 1, trigger: 'rollback', status: 'pending' });
    const revisions = await listRevisions(deps, 'acme', 'web', { limit: 10 });
    expect(revisions.items.map((r) => r.number)).toEqual([2, 1]);
    const deployments = await listDeployments(deps, 'acme', 'web', { limit: 10 });
    expect(deployments.items.map((d) => d.trigger)).toEqual(['rollback', 'deploy', 'create']);
    await expect(rollback(deps, 'acme', 'web', 9)).rejects.toMatchObject({ code: 'revision.notFound' });
  });

  it('refuses a rollback to the revision the app is on already, and goes ahead while it is not there yet', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec });
    const live = deps.store.apps.get('acme/web');
    if (!live) throw new Error('no app');
    live.currentRevision = 1;
    const triggers = async () =>
      (await listDeployments(deps, 'acme', 'web', { limit: 10 })).items.map((d) => d.trigger);
    await expect(rollback(deps, 'acme', 'web', 1)).rejects.toMatchObject({
      code: 'revision.current',
      message:
        'app "web" is on revision 1 already: nothing to roll back; POST /v1/apps/web/restart replaces its replicas, and POST /v1/apps/web/deployments deploys it again as a new revision',
    });
    expect(await triggers()).toEqual(['create']);
    // Revision 2 deploying: a rollback to it tries it again, and one to the live revision 1 abandons it.
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    await expect(rollback(deps, 'acme', 'web', 2)).resolves.toMatchObject({ revision: 2 });
    await expect(rollback(deps, 'acme', 'web', 1)).resolves.toMatchObject({ revision: 1 });
    await expect(rollback(deps, 'acme', 'web', 1)).rejects.toMatchObject({ code: 'revision.current' });
    await stopApp(deps, 'acme', 'web');
    await expect(rollback(deps, 'acme', 'web', 1)).rejects.toMatchObject({
      code: 'revision.current',
      message: 'app "web" is on revision 1 already, stopped: POST /v1/apps/web/start runs it',
    });
    expect(await triggers()).toEqual(['rollback', 'rollback', 'deploy', 'create']);
  });

  it("holds the platform registry's image each revision pins for its app until the app is deleted", async () => {
    const pushed = (tag: string) => `127.0.0.1:5000/acme/web:${tag}`;
    const [one, two, moved] = ['1', '2', '3'].map((hex) => `sha256:${hex.repeat(64)}`) as [
      string,
      string,
      string,
    ];
    deps.registry.digests.set('acme/web:1', one);
    deps.registry.digests.set('acme/web:2', two);
    await createApp(deps, 'acme', { name: 'web', ...spec, image: pushed('1') });
    const { uid } = await getAppRecord(deps, 'acme', 'web');
    await deploy(deps, 'acme', 'web', { image: pushed('2') });
    await updateApp(deps, 'acme', 'web', { env: { A: '1' } });
    const held = (...digests: string[]) => digests.map((digest) => `acme/web@${digest} for ${uid}`);
    expect([...deps.registry.held]).toEqual(held(one, two));

    // A create refused at its write lets go of what it held for the app it never made.
    await expect(createApp(deps, 'acme', { name: 'web', ...spec, image: pushed('1') })).rejects.toMatchObject(
      {
        code: 'app.exists',
      },
    );
    expect([...deps.registry.held]).toEqual(held(one, two));

    // A rollback holds its revision's image again (an install that held nothing when the revision was made).
    deps.registry.held.clear();
    deps.registry.digests.set('acme/web:1', moved);
    await rollback(deps, 'acme', 'web', 1);
    expect([...deps.registry.held]).toEqual(held(one));

    deps.registry.held.add(held(two)[0] ?? '');
    // An image of another registry, pinned by its digest, was never the platform's to hold or let go of.
    await deploy(deps, 'acme', 'web', { image: `registry.example.com/acme/web@sha256:${'4'.repeat(64)}` });
    const releases = vi.spyOn(deps.registry, 'releaseImages');
    await deleteApp(deps, 'acme', 'web');
    expect([...deps.registry.held]).toEqual([]);
    const released = releases.mock.calls.map(
      ([repository, digests]) => `${repository}: ${digests.toSorted().join(', ')}`,
    );
    expect(released).toEqual([`acme/web: ${one}, ${two}`]);
  });

  it('keeps the image of a revision leaving the newest ten while any revision held pins it, the newest or not', async () => {
    const image = (n: number) => pushedImage(deps.registry, n);
    const pinned = (n: number) => `127.0.0.1:5000/acme/web@${digestOf(n)}`;
    const released = vi.spyOn(deps.registry, 'releaseImages');
    // Revision 1 runs (its successors never went live), and revision 2 pins its image; revision 11 pins revision 3's.
    await createApp(deps, 'acme', { name: 'web', ...spec, image: image(1) });
    live(1);
    await deploy(deps, 'acme', 'web', { image: pinned(1) });
    for (let n = 3; n <= 10; n++) await deploy(deps, 'acme', 'web', { image: image(n) });
    await deploy(deps, 'acme', 'web', { image: pinned(3) });
    await deploy(deps, 'acme', 'web', { image: image(12) }); // revision 2 leaves: revision 1 runs its image
    await deploy(deps, 'acme', 'web', { image: image(13) }); // revision 3 leaves: revision 11 pins its image
    expect(released).not.toHaveBeenCalled();
    await deploy(deps, 'acme', 'web', { image: image(14) }); // revision 4 leaves, and its image with it
    const { uid } = await getAppRecord(deps, 'acme', 'web');
    expect(released.mock.calls).toEqual([['acme/web', [digestOf(4)], uid]]);
  });

  it("lets go of nothing, and tells of nothing, of another registry's images: leaving the newest ten, or a create's refused", async () => {
    const releases = vi.spyOn(deps.registry, 'releaseImages');
    const image = (n: number) => `registry.example.com/acme/web@${digestOf(n)}`;
    await createApp(deps, 'acme', { name: 'web', ...spec, image: image(1) });
    for (let n = 2; n <= 12; n++) await deploy(deps, 'acme', 'web', { image: image(n) });
    const refused = createApp(deps, 'acme', { name: 'web', ...spec, image: image(13) });
    await expect(refused).rejects.toMatchObject({ code: 'app.exists' });
    expect(releases).not.toHaveBeenCalled();
    expect(deps.logged).toEqual([]);
  });

  it('refuses a rollback to a revision whose image is gone from the platform registry, and keeps one whose tag moved', async () => {
    await createApp(deps, 'acme', { name: 'web', ...spec, image: pushedImage(deps.registry, 1) });
    await deploy(deps, 'acme', 'web', { image: pushedImage(deps.registry, 2) });
    await deploy(deps, 'acme', 'web', { image: pushedImage(deps.registry, 3) });
    deps.registry.digests.set('acme/web:1', digestOf(3)); // the tag moved on: revision 1's image is still there
    await expect(rollback(deps, 'acme', 'web', 1)).resolves.toMatchObject({ revision: 1 });
    deps.registry.deleteImage('acme/web', digestOf(2));
    await expect(rollback(deps, 'acme', 'web', 2)).rejects.toMatchObject({
      code: 'revision.imageGone',
      message: expect.stringMatching(/^revision 2 runs \S+, which is no longer in the platform registry/),
    });
    expect((await listDeployments(deps, 'acme', 'web', { limit: 10 })).items.map((d) => d.revision)).toEqual([
      1, 3, 2, 1,
    ]);
  });

  it('lets go of the image of the revision its newest ten push out, but not one it runs, moves to or still pins', async () => {
    const image = (n: number) => pushedImage(deps.registry, n);
    await createApp(deps, 'acme', { name: 'web', ...spec, image: image(1) });
    const { uid } = await getAppRecord(deps, 'acme', 'web');
    const held = () =>
      [...deps.registry.held]
        .map((h) => Number.parseInt(h.split('@sha256:')[1] ?? '', 16))
        .sort((a, b) => a - b);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    live(1);
    for (let n = 2; n <= 11; n++) await deploy(deps, 'acme', 'web', { image: image(n) });
    // Revision 1 left the newest ten as revision 11 was made, but the app runs it.
    expect(held()).toEqual(range(1, 11));
    await updateApp(deps, 'acme', 'web', { image: image(12) });
    expect(held()).toEqual([1, ...range(3, 12)]);
    // Revision 13 pins revision 3's image again: it stays held for it.
    await deploy(deps, 'acme', 'web', { image: `127.0.0.1:5000/acme/web@${digestOf(3)}` });
    expect(held()).toEqual([1, ...range(3, 12)]);
    await deploy(deps, 'acme', 'web', { image: image(14) });
    expect(held()).toEqual([1, 3, ...range(5, 12), 14]);
    // An app moving to an older revision (a rollback) keeps its image when the next deploy would let go of it.
    await rollback(deps, 'acme', 'web', 5);
    await deploy(deps, 'acme', 'web', { image: image(15) });
    expect(held()).toEqual([1, 3, ...range(5, 12), 14, 15]);
    // A rollback to a revision let go of holds its image again, while the registry has it.
    await rollback(deps, 'acme', 'web', 2);
    expect(held()).toEqual([1, 2, 3, ...range(5, 12), 14, 15]);
    // Failing to let go keeps the image longer, and is told; the deploy itself is made.
    const throttled = new Error('throttled');
    const release = vi.spyOn(deps.registry, 'releaseImages').mockRejectedValueOnce(throttled);
    await expect(deploy(deps, 'acme', 'web', { image: image(16) })).resolves.toMatchObject({ revision: 16 });
    expect(release).toHaveBeenCalledWith('acme/web', [digestOf(6)], uid);
    expect(deps.logged).toEqual([
      {
        message: 'could not let go of the image of a revision an app no longer holds',
        tenantId: 'acme',
        app: 'web',
        revision: 6,
        error: throttled,
      },
    ]);
    expect(held()).toEqual([1, 2, 3, ...range(5, 12), 14, 15, 16]);
    release.mockRestore();
    await deleteApp(deps, 'acme', 'web');
    expect(held()).toEqual([]);
  });

  describe('a rollback that names no revision', () => {
    /** Marks the app's newest deployment as its reconciler would once the revision serves. */
    async function goLive() {
      const app = await deps.store.getApp('acme', 'web');
      const [newest] = (await deps.store.listDeployments('acme', app?.uid ?? '', { limit: 1 })).items;
      if (!newest) throw new Error('no deployment to finish');
      await deps.store.updateDeployment({ ...newest, status: 'succeeded' }, newest);
    }
    const deployImage = (tag: number) =>
      deploy(deps, 'acme', 'web', { image: `registry.example.com/acme/web:${tag}` });

    it('goes back to the previous live revision, and a second one toggles forward again', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      await goLive();
      await deployImage(2);
      await goLive();
      const back = await rollback(deps, 'acme', 'web', undefined);
      expect(back).toMatchObject({ revision: 1, trigger: 'rollback' });
      await goLive();
      expect(await rollback(deps, 'acme', 'web', undefined)).toMatchObject({ revision: 2 });
    });

    it('abandons a deployment still in progress for the revision that is live', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      await goLive();
      await deployImage(2);
      await goLive();
      await deployImage(3);
      expect(await rollback(deps, 'acme', 'web', undefined)).toMatchObject({ revision: 2 });
    });

    it('passes over revisions that never went live, page after page', async () => {
      await createApp(deps, 'acme', { name: 'web', ...spec });
      await goLive();
      for (let tag = 2; tag <= 40; tag++) await deployImage(tag);
      expect(await rollback(deps, 'acme', 'web', undefined)).toMatchObject({ revision: 1 });
    });

    it('answers 409 revision.noPrevious when no other revision ever went live', async () => {
      const noPrevious = { code: 'revision.noPrevious' };
      await createApp(deps, 'acme', { name: 'web', ...spec });
      await expect(rollback(deps, 'acme', 'web', undefined)).rejects.toMatchObject(noPrevious);
      await goLive();
      await expect(rollback(deps, 'acme', 'web', undefined)).rejects.toMatchObject(noPrevious);
      await deployImage(2);
      await expect(rollback(deps, 'acme', 'web', undefined)).resolves.toMatchObject({ revision: 1 });
      await goLive();
      await expect(rollback(deps, 'acme', 'web', undefined)).rejects.toMatchObject(noPrevious);
    });
  });

  it('refuses a name whose hostname under the install would be longer than a load balancer serves', async () => {
    const aws = {
      ...deps,
      appUrl: (t: string, a: string) => `https://${appHostname(t, a, 'apps.example.com')}`,
    };
    await createTenant(deps, { id: 't'.repeat(30), name: 'Long', plan: 'free' });
    const longName = `w${'e'.repeat(31)}`; // 32 + "--" + 30 = a 64-character label
    await expect(createApp(aws, 't'.repeat(30), { name: longName, ...spec })).rejects.toMatchObject({
      code: 'validation.failed',
      errors: [
        { path: 'name', message: expect.stringContaining(`${longName}--${'t'.repeat(30)}.apps.example.com`) },
      ],
    });
    await expect(createApp(aws, 't'.repeat(30), { name: longName.slice(1), ...spec })).resolves.toBeDefined();
    // Locally the same name is two labels, each short enough.
    await expect(createApp(deps, 'acme', { name: longName, ...spec })).resolves.toBeDefined();
  });

  it('refuses a name whose hostname would have a label browsers read as an internationalized one', async () => {
    const aws = {
      ...deps,
      appUrl: (t: string, a: string) => `https://${appHostname(t, a, 'apps.example.com')}`,
    };
    const reserved = { code: 'validation.failed', errors: [{ path: 'name' }] };
    // xn--acme on AWS, xn--c.acme locally; ab--acme is an ordinary label.
    await expect(createApp(aws, 'acme', { name: 'xn', ...spec })).rejects.toMatchObject(reserved);
    await expect(createApp(deps, 'acme', { name: 'xn--c', ...spec })).rejects.toMatchObject(reserved);
    await expect(createApp(aws, 'acme', { name: 'ab', ...spec })).resolves.toBeDefined();
    await expect(createApp(deps, 'acme', { name: 'xn', ...spec })).resolves.toBeDefined();
  });

  it('keeps tenants apart: another tenant sees no app', async () => {
    await createTenant(deps, { id: 'other', name: 'Other', plan: 'free' });
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await expect(scaleApp(deps, 'other', 'web', 1)).rejects.toMatchObject({ code: 'app.notFound' });
  });
});
