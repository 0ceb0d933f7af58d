import { describe, expect, it } from 'vitest';
import { appEventOf } from '../../functions/core/app-events.ts';
import { rollBackFailed } from '../../functions/core/deployments.ts';
import type { AppRecord, DeploymentRecord } from '../../functions/core/ports.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

describe('what a reconcile pass writes of an app and its deployment, on DynamoDB Local', () => {
  it('writes the app, its deployment and what the pass saw together, or none when either changed since the pass read it', async () => {
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
      app: { record: live, read: app },
      // Read as it was before a write since: another pass's.
      deployment: { record: succeeded, read: { ...deployment, status: 'in_progress' } },
      events: [deployed],
    });
    expect(staleDeployment).toBe(false);
    expect(await stored()).toEqual(before);

    const staleApp = await deps.store.writeRollout({
      // Read as it was before a write since: a change's, or another pass's.
      app: { record: live, read: { ...app, readyReplicas: 2 } },
      deployment: { record: succeeded, read: deployment },
      events: [deployed],
    });
    expect(staleApp).toBe(false);
    expect(await stored()).toEqual(before);

    const both = await deps.store.writeRollout({
      app: { record: live, read: app },
      deployment: { record: succeeded, read: deployment },
      events: [deployed],
    });
    expect(both).toBe(true);
    expect(await stored()).toEqual({
      app: expect.objectContaining({ status: 'running', readyReplicas: 1, currentRevision: 1 }),
      deployment: expect.objectContaining({ status: 'succeeded' }),
      events: ['deployed', 'deploying'],
    });
    const after = await stored();
    // A pass that read the deployment in the same status, but before another pass's write, writes nothing over it.
    const readEarlier = { ...succeeded, failedStarts: succeeded.failedStarts + 1 };
    expect(
      await deps.store.writeRollout({
        deployment: { record: { ...readEarlier, reason: 'stale' }, read: readEarlier },
      }),
    ).toBe(false);
    // A pass that read the app before that write (one that outlived its lease) writes nothing over it, though the
    // version is the same; one that read it since writes, and the same observation changes nothing.
    expect(
      await deps.store.writeRollout({ app: { record: { ...app, currentRevision: null }, read: app } }),
    ).toBe(false);
    expect(await deps.store.writeRollout({ app: { record: live, read: live } })).toBe(true);
    expect(await stored()).toEqual(after);
  });

  it("ends a failed deployment rolled_back in the rollback's write, or writes none of it when the deployment moved on", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const created = (await deps.store.getApp('acme', 'web')) as AppRecord;
    await deps.store.writeRollout({
      app: { record: { ...created, currentRevision: 1 }, read: created },
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
      read: open,
    };
    const stored = async () => ({
      app: await deps.store.getApp('acme', 'web'),
      deployments: (await deps.store.listDeployments('acme', app.uid, { limit: 10 })).items,
      events: (await deps.store.listAppEvents('acme', app.uid, { limit: 10 })).items,
      tenant: await deps.store.getTenant('acme'),
    });

    const progressed: DeploymentRecord = { ...open, status: 'in_progress' };
    await deps.store.updateDeployment(progressed, open);
    const moved = await stored();
    expect(await rollBackFailed(deps, app, failing)).toBeUndefined();
    expect(await stored()).toEqual(moved);

    const back = await rollBackFailed(deps, app, { ...failing, read: progressed });
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
});
