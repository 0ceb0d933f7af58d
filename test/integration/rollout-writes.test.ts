import { describe, expect, it } from 'vitest';
import { appEventOf } from '../../functions/core/app-events.ts';
import type { AppRecord, DeploymentRecord } from '../../functions/core/ports.ts';
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
});
