import { describe, expect, it } from 'vitest';
import type { AppRecord } from '../../functions/core/ports.ts';
import { beforeNextCall } from '../support/before-next-call.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

/**
 * A change reads the app, its tenant and the plan, decides, then writes in one transaction conditioned on all it
 * read. Here something else is written in between — by the same store, just before the change's write — as a reconcile
 * pass, an operator or another request would.
 */
describe('a change of an app whose reads went stale before its write, on DynamoDB Local', () => {
  it("keeps what a reconcile pass wrote between a change's read and its write, and the change's If-Match holds", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const etag = (await call('GET', '/v1/apps/web', key)).headers.get('etag') ?? '';
    const created = (await deps.store.getApp('acme', 'web')) as AppRecord;
    // The pass observes revision 1 live after the PATCH has read the app: the version stays, as a pass keeps it.
    beforeNextCall(deps.store, 'updateApp', async () => {
      const live = { ...created, status: 'running' as const, readyReplicas: 1, currentRevision: 1 };
      expect(await deps.store.writeRollout({ app: { record: live, read: created } })).toBe(true);
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
    beforeNextCall(deps.store, 'updateApp', async () => {
      expect((await call('PATCH', '/v1/plans/pro', adminKey, { name: 'Pro 2' })).status).toBe(200);
    });
    const patched = await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } }, { 'if-match': etag });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ version: 2, env: { A: '1' } });
  });

  it('refuses a change whose tenant was suspended between its reads and its write, and writes none of it', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const before = await deps.store.getApp('acme', 'web');
    beforeNextCall(deps.store, 'updateApp', async () => {
      expect((await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'suspended' })).status).toBe(200);
    });
    const patched = await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } });
    expect(patched).toMatchObject({ status: 403, json: { code: 'tenant.suspended' } });
    expect(await deps.store.getApp('acme', 'web')).toEqual(before);
  });

  it('judges a change by the plan its tenant moved to between its reads and its write', async () => {
    const { call, adminKey, createTenant, createPlan, deps } = await localApi();
    await createPlan('small', { apps: 5, instancesPerApp: 2, vcpu: 4, memoryMiB: 8192 });
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    beforeNextCall(deps.store, 'updateApp', async () => {
      expect((await call('PATCH', '/v1/tenants/acme', adminKey, { plan: 'small' })).status).toBe(200);
    });
    const scaled = await call('POST', '/v1/apps/web/scale', key, { replicas: 3 });
    expect(scaled).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    expect(scaled.json.detail).toContain('small');
    expect(await deps.store.getApp('acme', 'web')).toMatchObject({ replicas: 1, version: 1 });
    expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 2 })).status).toBe(200);
  });
});

/** The same, for the writes of plans and tenants, a tenant's deletion and a new app. */
describe('a write of a plan, a tenant or a new app whose reads went stale before it, on DynamoDB Local', () => {
  it('writes a change of a plan made while another landed between its read and its write, keeping both', async () => {
    const { call, adminKey, deps } = await localApi();
    beforeNextCall(deps.store, 'updatePlan', async () => {
      expect((await call('PATCH', '/v1/plans/pro', adminKey, { limits: { apps: 7 } })).status).toBe(200);
    });
    const renamed = await call('PATCH', '/v1/plans/pro', adminKey, { name: 'Pro 2' });
    expect(renamed).toMatchObject({ status: 200, json: { name: 'Pro 2', limits: { apps: 7 } } });
    expect(await deps.store.getPlan('pro')).toMatchObject({ name: 'Pro 2', limits: { apps: 7 }, version: 3 });
  });

  it('writes a change of a tenant made while another landed between its read and its write, keeping both', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    await createTenant('acme');
    beforeNextCall(deps.store, 'updateTenant', async () => {
      expect((await call('PATCH', '/v1/tenants/acme', adminKey, { plan: 'free' })).status).toBe(200);
    });
    const renamed = await call('PATCH', '/v1/tenants/acme', adminKey, { name: 'Acme Inc.' });
    expect(renamed).toMatchObject({ status: 200, json: { name: 'Acme Inc.', plan: 'free' } });
    expect(await deps.store.getTenant('acme')).toMatchObject({ name: 'Acme Inc.', plan: 'free', version: 3 });
  });

  it('answers a deletion of a tenant that another deletion took between its reads and its write 404', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    await createTenant('acme');
    beforeNextCall(deps.store, 'deleteTenant', async () => {
      expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    });
    const deleted = await call('DELETE', '/v1/tenants/acme', adminKey);
    expect(deleted).toMatchObject({ status: 404, json: { code: 'tenant.notFound' } });
    expect(await deps.store.getTenant('acme')).toBeUndefined();
  });

  it('refuses a new app of a tenant deleted between its reads and its write, 404, and writes none of it', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    beforeNextCall(deps.store, 'createApp', async () => {
      expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    });
    const created = await call('POST', '/v1/apps', key, sampleApp('web'));
    expect(created).toMatchObject({ status: 404, json: { code: 'tenant.notFound' } });
    expect(await deps.store.getApp('acme', 'web')).toBeUndefined();
  });

  it('makes a new app whose tenant moved to a larger plan, and grew under it, between its reads and its write', async () => {
    const { call, adminKey, createTenant, createPlan, deps } = await localApi();
    await createPlan('single', { apps: 1, instancesPerApp: 2, vcpu: 4, memoryMiB: 8192 });
    const key = (await createTenant('acme', 'single')).key;
    // Its tenant's second app by the time it is written: past the plan it was checked against, within the one it is on.
    beforeNextCall(deps.store, 'createApp', async () => {
      expect((await call('PATCH', '/v1/tenants/acme', adminKey, { plan: 'pro' })).status).toBe(200);
      expect((await call('POST', '/v1/apps', key, sampleApp('api'))).status).toBe(201);
    });
    expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
    expect(await deps.store.getTenant('acme')).toMatchObject({ plan: 'pro', reserved: { apps: 2 } });
  });
});
