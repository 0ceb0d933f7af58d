import { describe, expect, it } from 'vitest';
import { appEventOf } from '../../functions/core/app-events.ts';
import { rollBackFailed } from '../../functions/core/deployments.ts';
import type { AppRecord, DeploymentRecord, Store } from '../../functions/core/ports.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

describe('what a reconcile pass writes of an app and its deployment, on DynamoDB Local', () => {
  it('writes the app, its deployment and what the pass saw together, or none when either changed meanwhile', async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
    const app = (await deps.store.getApp('acme', 'web')) as AppRecord;
    const [deployment] = (await deps.store.listDeployments('acme', app.uid, { limit: 1 })).items;
    if (!deployment) throw new Error('the app has no deployment');
    const live: AppRecord = { ...app, status: 'running', readyReplicas: 1, currentRevision: 1 };
    const succeeded: DeploymentRecord = { ...deployment, status: 'succeeded' };
    const deployed = appEventOf(app, { type: 'deployed', message: 'revision 1 is live' }, new Date());
    const stored = async () => ({
      app: await deps.store.getApp('acme', 'web'),
      deployment: await deps.store.getDeployment('acme', app.uid, deployment.id),
      events: (await deps.store.listAppEvents('acme', app.uid, { limit: 10 })).items.map((e) => e.type),
    });
    const before = await stored();

    const staleDeployment = await deps.store.writeRollout({
      app: { record: live, expectedVersion: app.version },
      deployment: { record: succeeded, expectedStatus: 'in_progress' },
      events: [deployed],
    });
    expect(staleDeployment).toBe(false);
    expect(await stored()).toEqual(before);

    const staleApp = await deps.store.writeRollout({
      app: { record: live, expectedVersion: app.version + 1 },
      deployment: { record: succeeded, expectedStatus: deployment.status },
      events: [deployed],
    });
    expect(staleApp).toBe(false);
    expect(await stored()).toEqual(before);

    const both = await deps.store.writeRollout({
      app: { record: live, expectedVersion: app.version },
      deployment: { record: succeeded, expectedStatus: deployment.status },
      events: [deployed],
    });
    expect(both).toBe(true);
    expect(await stored()).toEqual({
      app: expect.objectContaining({ status: 'running', readyReplicas: 1, currentRevision: 1 }),
      deployment: expect.objectContaining({ status: 'succeeded' }),
      events: ['deployed', 'deploying'],
    });
    const after = await stored();
    expect(
      await deps.store.writeRollout({ deployment: { record: succeeded, expectedStatus: 'pending' } }),
    ).toBe(false);
    expect(await deps.store.writeRollout({ app: { record: live, expectedVersion: app.version } })).toBe(true);
    expect(await stored()).toEqual(after);
  });

  it("ends a failed deployment rolled_back in the rollback's write, or writes none of it when the deployment moved on", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const created = (await deps.store.getApp('acme', 'web')) as AppRecord;
    await deps.store.writeRollout({
      app: { record: { ...created, currentRevision: 1 }, expectedVersion: created.version },
    });
    const attempt = await call('POST', '/v1/apps/web/deployments', key, { env: { A: '1' } });
    const open = (await deps.store.getDeployment(
      'acme',
      created.uid,
      String(attempt.json.id),
    )) as DeploymentRecord;
    const app = (await deps.store.getApp('acme', 'web')) as AppRecord;
    const failing = {
      record: { ...open, status: 'failed' as const, reason: 'not healthy' },
      expectedStatus: open.status,
    };
    const stored = async () => ({
      app: await deps.store.getApp('acme', 'web'),
      deployments: (await deps.store.listDeployments('acme', app.uid, { limit: 10 })).items,
      events: (await deps.store.listAppEvents('acme', app.uid, { limit: 10 })).items,
      tenant: await deps.store.getTenant('acme'),
    });

    await deps.store.updateDeployment({ ...open, status: 'in_progress' }, open.status);
    const moved = await stored();
    expect(await rollBackFailed(deps, app, failing)).toBeUndefined();
    expect(await stored()).toEqual(moved);

    const back = await rollBackFailed(deps, app, { ...failing, expectedStatus: 'in_progress' });
    expect(back).toMatchObject({ revision: 1, trigger: 'rollback' });
    const after = await stored();
    expect(after.app).toMatchObject({ targetRevision: 1, spec: { env: {} } });
    expect(after.deployments.map((d) => [d.id, d.status])).toEqual([
      [back?.id, 'pending'],
      [open.id, 'rolled_back'],
      [expect.any(String), 'pending'],
    ]);
    expect(after.events[0]).toMatchObject({
      type: 'rolledBack',
      details: { deployment: back?.id, failed: open.id },
    });
  });
  it("keeps what a reconcile pass wrote between a change's read and its write, and the change's If-Match holds", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const etag = (await call('GET', '/v1/apps/web', key)).headers.get('etag') ?? '';
    const created = (await deps.store.getApp('acme', 'web')) as AppRecord;
    // The pass observes revision 1 live after the PATCH has read the app: the version stays, as a pass keeps it.
    onFirstAppWrite(deps.store, async () => {
      const live = { ...created, status: 'running' as const, readyReplicas: 1, currentRevision: 1 };
      expect(await deps.store.writeRollout({ app: { record: live, expectedVersion: created.version } })).toBe(
        true,
      );
    });
    const patched = await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } }, { 'if-match': etag });
    expect(patched.status).toBe(200);
    expect(await deps.store.getApp('acme', 'web')).toMatchObject({
      version: created.version + 1,
      currentRevision: 1,
      targetRevision: 2,
      spec: { env: { A: '1' } },
    });
  });

  it("takes a change whose plan was edited between its read and its write, under the change's If-Match", async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const etag = (await call('GET', '/v1/apps/web', key)).headers.get('etag') ?? '';
    onFirstAppWrite(deps.store, async () => {
      expect((await call('PATCH', '/v1/plans/pro', adminKey, { name: 'Pro 2' })).status).toBe(200);
    });
    const patched = await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } }, { 'if-match': etag });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ version: 2, env: { A: '1' } });
  });
});

/** Runs `meanwhile` once, just before the store's first app update: between a change's reads and its write. */
function onFirstAppWrite(store: Store, meanwhile: () => Promise<void>) {
  const update = store.updateApp.bind(store);
  store.updateApp = async (write) => {
    store.updateApp = update;
    await meanwhile();
    return update(write);
  };
}
