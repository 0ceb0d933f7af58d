import { beforeEach, describe, expect, it } from 'vitest';
import { createApp, deleteApp, getAppRecord, startApp, stopApp } from '../../../functions/core/apps.ts';
import { deploy, listDeployments, wayBack } from '../../../functions/core/deployments.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import type { DeploymentRecord, RolloutWrite } from '../../../functions/core/ports.ts';
import { createTenant, getTenantRecord, updateTenant } from '../../../functions/core/tenants.ts';
import {
  advanceRollout,
  latestDeployment,
  type RolloutProgress,
  servingRevisionOf,
} from '../../../functions/jobs/rollout.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { deploymentHistory } from '../../support/deployment-history.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
const converged: RolloutProgress = {
  desired: 1,
  readyTarget: 1,
  routable: 1,
  converged: true,
  failedStarts: 0,
  started: false,
  tenant: { status: 'active' },
};

describe('servingRevisionOf', () => {
  it('names the newest revision other than the target among those serving: the way back nearest what was asked', () => {
    const serving = (...revisions: number[]) => revisions.map((revision) => ({ revision }));
    expect(servingRevisionOf(serving(2, 1, 3, 2), 3)).toBe(2);
    expect(servingRevisionOf(serving(1, 2), 1)).toBe(2);
    expect(servingRevisionOf(serving(3), 3)).toBeUndefined();
  });
});

describe('wayBack', () => {
  it('finds no way back from a failed deployment of the revision that serves: it would go back to itself', () => {
    const failed = (trigger: DeploymentRecord['trigger']) =>
      ({ status: 'failed', revision: 2, trigger }) as DeploymentRecord;
    // A rollback to the live revision that failed, and a first deployment whose own replicas were found serving.
    expect(wayBack({ targetRevision: 2, currentRevision: 2 }, failed('rollback'), undefined)).toBeUndefined();
    expect(wayBack({ targetRevision: 2, currentRevision: null }, failed('deploy'), 2)).toBeUndefined();
    expect(wayBack({ targetRevision: 2, currentRevision: 1 }, failed('deploy'), undefined)).toBe(1);
  });
});

describe('advanceRollout', () => {
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>> & { deploymentDeadlineMs: number };
  let writes: RolloutWrite[];
  beforeEach(async () => {
    deps = { ...(await fakeCoreDeps()), deploymentDeadlineMs: 60_000 };
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    await createApp(deps, 'acme', { name: 'web', ...spec });
    writes = [];
    const write = deps.store.writeRollout.bind(deps.store);
    deps.store.writeRollout = (w) => {
      writes.push(w);
      return write(w);
    };
  });

  const pass = async (progress: RolloutProgress) => {
    const app = await getAppRecord(deps, 'acme', 'web');
    await advanceRollout(deps, app, await latestDeployment(deps, app), progress);
    return { app: await getAppRecord(deps, 'acme', 'web'), deployment: await latestDeployment(deps, app) };
  };

  it('finishes a deployment in the same write that shows the app running its revision', async () => {
    const { app, deployment } = await pass(converged);
    expect(deployment).toMatchObject({ status: 'succeeded' });
    expect(app).toMatchObject({ status: 'running', readyReplicas: 1, currentRevision: 1 });
    expect(writes).toEqual([
      {
        app: expect.objectContaining({ record: expect.objectContaining({ status: 'running' }) }),
        deployment: expect.objectContaining({ record: expect.objectContaining({ status: 'succeeded' }) }),
        events: [expect.objectContaining({ type: 'deployed', message: 'revision 1 is live' })],
      },
    ]);
    // The app's creation said it was deploying; the pass says it went live.
    expect(deps.store.events.map((e) => e.type)).toEqual(['deploying', 'deployed']);
  });

  it('marks a deployment healthy once its replicas are ready, and succeeded only once no old one is left', async () => {
    deps.clock.advance(1000);
    const { deployment } = await pass({ ...converged, converged: false });
    expect(deployment).toMatchObject({
      status: 'in_progress',
      phases: { healthy: '2026-11-22T10:00:01.000Z' },
      updatedAt: '2026-11-22T10:00:01.000Z',
    });
    expect(deployment?.phases.traffic).toBeNull();
    // A pass that finds it as it was writes nothing.
    writes.length = 0;
    deps.clock.advance(1000);
    expect((await pass({ ...converged, converged: false })).deployment).toEqual(deployment);
    expect(writes).toEqual([]);
    expect((await pass(converged)).deployment).toMatchObject({ status: 'succeeded' });
  });

  it('fails a deployment not healthy past its deadline, not at it', async () => {
    const waiting = { ...converged, readyTarget: 0, routable: 0, converged: false };
    deps.clock.advance(deps.deploymentDeadlineMs);
    expect((await pass(waiting)).deployment).toMatchObject({ status: 'in_progress' });
    deps.clock.advance(1);
    expect(await pass(waiting)).toMatchObject({
      app: { status: 'failed' },
      deployment: { status: 'failed', reason: 'not healthy within 60 s' },
    });
  });

  it('shows an app scaled to zero as running, with nothing ready', async () => {
    await pass(converged);
    const { app } = await pass({ ...converged, desired: 0, readyTarget: 0, routable: 0 });
    expect(app).toMatchObject({ status: 'running', readyReplicas: 0, currentRevision: 1 });
  });

  it('ends every older deployment still open as superseded, however many came since the last pass, oldest first', async () => {
    await pass(converged);
    // Twelve deploys land before the next pass: more than one page of deployments.
    for (let i = 0; i < 12; i++) await deploy(deps, 'acme', 'web', {});
    const ended: string[] = [];
    const update = deps.store.updateDeployment.bind(deps.store);
    deps.store.updateDeployment = (deployment, expected) => {
      ended.push(deployment.id);
      return update(deployment, expected);
    };
    deps.clock.advance(1000);
    const { deployment } = await pass({ ...converged, converged: false, readyTarget: 0 });
    const { items } = await listDeployments(deps, 'acme', 'web', { limit: 20 });
    expect(items.map((d) => d.status)).toEqual(['in_progress', ...Array(11).fill('superseded'), 'succeeded']);
    expect(new Set(items.slice(1, 12).map((d) => [d.reason, d.updatedAt].join(' at ')))).toEqual(
      new Set([`superseded by ${deployment?.id} at 2026-11-22T10:00:01.000Z`]),
    );
    // Oldest first: a pass cut short leaves the open ones the newest, where the next pass looks.
    expect(ended).toEqual(
      items
        .slice(1, 12)
        .map((d) => d.id)
        .reverse(),
    );
    // The next pass has nothing left to end.
    ended.length = 0;
    await pass({ ...converged, converged: false, readyTarget: 0 });
    expect(ended).toEqual([]);
  });

  it('writes nothing when the deployment moved on meanwhile, and tells nobody it succeeded', async () => {
    const app = await getAppRecord(deps, 'acme', 'web');
    const latest = await latestDeployment(deps, app);
    if (!latest) throw new Error('no deployment');
    // Another pass (another process) took the deployment on after this one read it.
    await deps.store.updateDeployment({ ...latest, status: 'in_progress' }, latest);
    await advanceRollout(deps, app, latest, converged);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'deploying', readyReplicas: 0 });
    expect(await latestDeployment(deps, app)).toMatchObject({ status: 'in_progress' });
    expect(deps.store.events.map((e) => e.type)).toEqual(['deploying']);
  });

  it('writes only the app while its deployment has nothing new', async () => {
    await pass(converged);
    writes.length = 0;
    const { app } = await pass({ ...converged, routable: 0, readyTarget: 0, converged: false });
    expect(app).toMatchObject({ status: 'degraded', readyReplicas: 0, currentRevision: 1 });
    expect(writes).toEqual([{ app: expect.anything() }]);
    writes.length = 0;
    await pass({ ...converged, routable: 0, readyTarget: 0, converged: false });
    expect(writes).toEqual([]);
  });

  it('leaves a deleting app as it is: deleting, whatever its replicas show, until its last goes', async () => {
    const deleting = await deleteApp(deps, 'acme', 'web');
    const { app } = await pass({ ...converged, desired: 0 });
    expect(app).toMatchObject({ status: 'deleting', version: deleting.version, readyReplicas: 0 });
    expect(writes).toEqual([]);
  });

  it('starts an app stopped on its live revision without a deployment: nothing new goes live', async () => {
    await pass(converged);
    await stopApp(deps, 'acme', 'web');
    expect(await startApp(deps, 'acme', 'web')).toMatchObject({ status: 'deploying', currentRevision: 1 });
    const { items } = await listDeployments(deps, 'acme', 'web', { limit: 5 });
    expect(items.map((d) => [d.trigger, d.status])).toEqual([['create', 'succeeded']]);
    expect(deps.store.events.at(-1)).toMatchObject({ type: 'started', details: { revision: 1 } });
  });

  it('lets the deployment of a stopped app wait, and starts a new one when the app starts', async () => {
    await stopApp(deps, 'acme', 'web');
    const stopped = { ...converged, desired: 0, readyTarget: 0, routable: 0 };
    // Nothing runs, which says nothing of revision 1: no success, no current revision.
    const { app, deployment } = await pass(stopped);
    expect(deployment).toMatchObject({ status: 'pending' });
    expect(app).toMatchObject({ status: 'stopped', currentRevision: null });
    expect(deps.store.events.map((e) => e.type)).toEqual(['deploying', 'stopped']);

    deps.clock.advance(3_600_000);
    await startApp(deps, 'acme', 'web');
    const after = await pass({ ...converged, readyTarget: 0, routable: 0, converged: false, started: true });
    const { items } = await listDeployments(deps, 'acme', 'web', { limit: 5 });
    // The new deployment's deadline runs from the start, not from the first one's creation an hour ago.
    expect(items.map((d) => [d.trigger, d.status])).toEqual([
      ['start', 'in_progress'],
      ['create', 'superseded'],
    ]);
    expect(items[1]?.reason).toMatch(/^superseded by /);
    expect(after.app).toMatchObject({ status: 'deploying' });
    await pass(converged);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', currentRevision: 1 });
  });

  it("shows a suspended tenant's app as suspended, lets its deployment wait, and gives it a full deadline after", async () => {
    await updateTenant(deps, 'acme', { status: 'suspended' });
    const suspended = {
      ...converged,
      desired: 0,
      readyTarget: 0,
      routable: 0,
      tenant: { status: 'suspended' },
    } as const;
    // Nothing runs, which says nothing of revision 1: it neither succeeds nor runs out of time.
    const held = await pass(suspended);
    expect(held.app).toMatchObject({ status: 'suspended', readyReplicas: 0, currentRevision: null });
    expect(held.deployment).toMatchObject({ status: 'pending' });
    deps.clock.advance(3_600_000);
    expect((await pass(suspended)).deployment).toMatchObject({ status: 'pending' });

    await updateTenant(deps, 'acme', { status: 'active' });
    const tenant = await getTenantRecord(deps, 'acme');
    expect(tenant.resumedAt).toBe(deps.clock.now().toISOString());
    const starting = { ...converged, readyTarget: 0, routable: 0, converged: false, started: true, tenant };
    const resumed = await pass(starting);
    // An hour past its creation, the deployment still has its minute from the reactivation.
    expect(resumed.deployment).toMatchObject({ status: 'in_progress' });
    expect(resumed.app).toMatchObject({ status: 'deploying' });
    deps.clock.advance(61_000);
    expect((await pass(starting)).deployment).toMatchObject({
      status: 'failed',
      reason: 'not healthy within 60 s',
    });
    expect(deps.store.events.map((e) => [e.type, e.message])).toEqual([
      ['deploying', 'deploying revision 1 (create)'],
      ['suspended', 'the tenant is suspended: nothing runs until it is reactivated'],
      ['resumed', 'the tenant is active again'],
      ['deploymentFailed', 'deployment of revision 1 failed: not healthy within 60 s'],
    ]);
  });

  it('gives a deployment begun before its reconciler began to watch (a platform stopped through it) a full deadline', async () => {
    const starting = { ...converged, readyTarget: 0, routable: 0, converged: false, started: true };
    expect((await pass(starting)).deployment).toMatchObject({ status: 'in_progress' });
    // The platform is stopped an hour; the one started then has no health of the replicas yet.
    deps.clock.advance(3_600_000);
    const restarted = { ...deps, watchingSince: deps.clock.now() };
    const passAfterRestart = async () => {
      const app = await getAppRecord(deps, 'acme', 'web');
      await advanceRollout(restarted, app, await latestDeployment(deps, app), starting);
      return latestDeployment(deps, app);
    };
    expect(await passAfterRestart()).toMatchObject({ status: 'in_progress' });
    deps.clock.advance(61_000);
    expect(await passAfterRestart()).toMatchObject({ status: 'failed', reason: 'not healthy within 60 s' });
  });

  it('fails a deployment at its circuit breaker, saying how the last of its replicas failed', async () => {
    const failing = { ...converged, readyTarget: 0, routable: 0, converged: false, started: true };
    expect((await pass({ ...failing, failedStarts: 2 })).deployment).toMatchObject({ status: 'in_progress' });
    const lastFailure = 'failed its health checks (TCP connect to port 9090: connection refused)';
    expect((await pass({ ...failing, failedStarts: 3, lastFailure })).deployment).toMatchObject({
      status: 'failed',
      reason: `3 replicas failed (circuit breaker at 3); the last ${lastFailure}`,
    });
  });

  it('ends a failed deployment rolled_back in the write of its rollback, made again by the next pass if refused', async () => {
    await pass(converged);
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    const update = deps.store.updateApp.bind(deps.store);
    deps.store.updateApp = async () => {
      deps.store.updateApp = update;
      throw new UnavailableError('the table did not answer');
    };
    // Revision 2 trips its circuit breaker while revision 1 still serves; the rollback's write is refused.
    const tripped = { ...converged, readyTarget: 0, converged: false, failedStarts: 3, started: true };
    await expect(pass(tripped)).rejects.toThrow('the table did not answer');
    // None of it was written: the deployment is open still, and revision 1 serves.
    const refused = await pass({ ...tripped, failedStarts: 2 });
    expect(refused.app).toMatchObject({ targetRevision: 2, currentRevision: 1, status: 'deploying' });
    expect(refused.deployment).toMatchObject({ revision: 2, status: 'in_progress' });

    const { app, deployment } = await pass(tripped);
    expect(app).toMatchObject({ targetRevision: 1, currentRevision: 1, status: 'deploying' });
    expect(deployment).toMatchObject({ revision: 1, trigger: 'rollback', status: 'pending' });
    const { items } = await listDeployments(deps, 'acme', 'web', { limit: 5 });
    expect(items[1]).toMatchObject({
      revision: 2,
      status: 'rolled_back',
      reason: `3 replicas failed (circuit breaker at 3); rolled back to revision 1 (${deployment?.id})`,
    });
    expect(deps.store.events.map((e) => [e.type, e.message]).slice(3)).toEqual([
      [
        'rolledBack',
        'deployment of revision 2 failed: 3 replicas failed (circuit breaker at 3); rolled back to revision 1',
      ],
    ]);
    // The rollback's deployment goes live over the replicas that served.
    expect(await pass(converged)).toMatchObject({
      app: { targetRevision: 1, currentRevision: 1, status: 'running' },
      deployment: { id: deployment?.id, status: 'succeeded' },
    });
    expect((await listDeployments(deps, 'acme', 'web', { limit: 5 })).items).toHaveLength(items.length);
  });

  it('rolls a failed deployment back to a revision that serves though none went live yet: the first, superseded', async () => {
    // Revision 2 is deployed before any pass saw revision 1 go live; revision 1's replica serves all the same.
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    const tripped = { ...converged, readyTarget: 0, converged: false, failedStarts: 3, started: true };
    const { app, deployment } = await pass({ ...tripped, servingRevision: 1 });
    expect(app).toMatchObject({ targetRevision: 1, currentRevision: null, status: 'deploying' });
    expect(deployment).toMatchObject({ revision: 1, trigger: 'rollback', status: 'pending' });
    expect(await deploymentHistory(deps, 'acme', 'web')).toEqual([
      [1, 'pending'],
      [2, 'rolled_back'],
      [1, 'superseded'],
    ]);
    expect(await pass(converged)).toMatchObject({
      app: { targetRevision: 1, currentRevision: 1, status: 'running' },
      deployment: { id: deployment?.id, status: 'succeeded' },
    });
  });

  it('goes back from a failed rollback to no revision that never went live: two failing revisions take no turns', async () => {
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    const tripped = { ...converged, readyTarget: 0, converged: false, failedStarts: 3, started: true };
    await pass({ ...tripped, servingRevision: 1 }); // back to revision 1, which never went live
    // Revision 1 fails in turn while revision 2's replicas serve.
    const { app, deployment } = await pass({ ...tripped, servingRevision: 2 });
    expect(app).toMatchObject({ targetRevision: 1, currentRevision: null });
    expect(deployment).toMatchObject({ revision: 1, trigger: 'rollback', status: 'failed' });
    expect(await deploymentHistory(deps, 'acme', 'web')).toEqual([
      [1, 'failed'],
      [2, 'rolled_back'],
      [1, 'superseded'],
    ]);
  });

  it('fails a deployment with nothing serving to go back to, though an earlier revision was deployed', async () => {
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    const tripped = { ...converged, readyTarget: 0, routable: 0, converged: false, failedStarts: 3 };
    expect(await pass({ ...tripped, started: true })).toMatchObject({
      app: { targetRevision: 2, currentRevision: null, status: 'failed' },
      deployment: { revision: 2, status: 'failed' },
    });
  });

  it('fails a first deployment with nothing to go back to', async () => {
    const tripped = { ...converged, readyTarget: 0, routable: 0, converged: false, failedStarts: 3 };
    expect(await pass({ ...tripped, started: true })).toMatchObject({
      app: { targetRevision: 1, currentRevision: null, status: 'failed' },
      deployment: { status: 'failed' },
    });
  });

  it('brings a running app back to running after a suspension', async () => {
    await pass(converged);
    await updateTenant(deps, 'acme', { status: 'suspended' });
    expect(
      (await pass({ ...converged, desired: 0, routable: 0, readyTarget: 0, tenant: { status: 'suspended' } }))
        .app,
    ).toMatchObject({
      status: 'suspended',
      currentRevision: 1,
    });
    await updateTenant(deps, 'acme', { status: 'active' });
    expect((await pass({ ...converged, routable: 0, readyTarget: 0, converged: false })).app).toMatchObject({
      status: 'degraded',
    });
    expect((await pass(converged)).app).toMatchObject({ status: 'running', readyReplicas: 1 });
    expect(deps.store.events.map((e) => e.type)).toEqual(['deploying', 'deployed', 'suspended', 'resumed']);
  });
});
