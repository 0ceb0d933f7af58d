import { describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { newTenantKey } from '../../functions/core/api-keys.ts';
import type { PageRequest } from '../../functions/core/ports.ts';
import { createApi } from '../../functions/http/api.ts';
import { localDeps } from '../../functions/shared/local.ts';
import { labelledContainers } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { clientFor, localApi, localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

/** How long a deleted app may take to go here. */
const GONE_WITHIN_MS = 20_000;

describe('tenants and keys on DynamoDB Local', () => {
  it('shows a key once and lists only its prefix afterwards', async () => {
    const { call, adminKey, deps } = await localApi();
    const created = await call('POST', '/v1/tenants', adminKey, { id: 'acme', name: 'Acme', plan: 'free' });
    expect(created.status).toBe(201);
    const secret = (created.json.apiKey as { key: string }).key;
    const keys = await call('GET', '/v1/tenants/acme/keys', adminKey);
    expect(keys.text).not.toContain(secret);
    expect(keys.json.items).toEqual([
      expect.objectContaining({ role: 'tenant', prefix: secret.slice(0, 9), lastUsedAt: null }),
    ]);
    await call('GET', '/v1/tenant', secret);
    // The last use is written beside the request, not before its answer.
    await deps.auth.flush();
    const used = await call('GET', '/v1/tenants/acme/keys', adminKey);
    expect((used.json.items as { lastUsedAt: string | null }[])[0]?.lastUsedAt).not.toBeNull();
  });

  it("answers a created tenant with where it is and the tenant's ETag, which a PATCH takes at once", async () => {
    const { call, adminKey } = await localApi();
    const created = await call('POST', '/v1/tenants', adminKey, { id: 'acme', name: 'Acme', plan: 'free' });
    expect(created.headers.get('location')).toBe('/v1/tenants/acme');
    const etag = created.headers.get('etag');
    expect(etag).toBe((await call('GET', '/v1/tenants/acme', adminKey)).headers.get('etag'));
    const renamed = await call(
      'PATCH',
      '/v1/tenants/acme',
      adminKey,
      { name: 'Acme Inc' },
      { 'if-match': `${etag}` },
    );
    expect(renamed).toMatchObject({ status: 200, json: { name: 'Acme Inc' } });
    // Answered with its new ETag too, which the next PATCH takes.
    const after = (await call('GET', '/v1/tenants/acme', adminKey)).headers.get('etag');
    expect(after).not.toBe(etag);
    expect(renamed.headers.get('etag')).toBe(after);
  });

  it('keeps the name a key is made with, lists it, and refuses a name that is no display name', async () => {
    const { call, adminKey, createTenant } = await localApi();
    const { key: tenantKey } = await createTenant('acme');
    const made = await call('POST', '/v1/keys', tenantKey, { name: '  CI deploys ' });
    expect(made).toMatchObject({ status: 201, json: { name: 'CI deploys', role: 'tenant' } });
    const byAdmin = await call('POST', '/v1/tenants/acme/keys', adminKey, { name: 'support' });
    expect(byAdmin.json.name).toBe('support');
    const listed = (await call('GET', '/v1/keys', tenantKey)).json.items as {
      id: string;
      name: string | null;
    }[];
    expect(listed.map((k) => [k.id, k.name])).toEqual([
      [expect.any(String), null],
      [made.json.id, 'CI deploys'],
      [byAdmin.json.id, 'support'],
    ]);
    for (const name of ['', '   ', 'x'.repeat(101), 'bell\u0007', 42]) {
      const refused = await call('POST', '/v1/keys', tenantKey, { name });
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.json.errors, JSON.stringify(name)).toEqual([expect.objectContaining({ path: 'name' })]);
    }
    expect((await call('GET', '/v1/keys', tenantKey)).json.items).toHaveLength(3);
  });

  it('stops a revoked key at once in the revoking process and within 1 s in another', async () => {
    const first = await localApi();
    const other = createApi(localDeps(first.wiring));
    const otherClient = clientFor(other, first.adminKey);
    await first.createTenant('acme');
    const extra = await first.call('POST', '/v1/tenants/acme/keys', first.adminKey);
    const { id, key } = extra.json as { id: string; key: string };
    expect((await first.call('GET', '/v1/tenant', key)).status).toBe(200);
    expect((await otherClient.call('GET', '/v1/tenant', key)).status).toBe(200);
    expect((await first.call('DELETE', `/v1/tenants/acme/keys/${id}`, first.adminKey)).status).toBe(204);
    expect((await first.call('GET', '/v1/tenant', key)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await otherClient.call('GET', '/v1/tenant', key)).status).toBe(401);
    expect((await first.call('DELETE', `/v1/tenants/acme/keys/${id}`, first.adminKey)).status).toBe(404);
  });

  it('lets a tenant rotate its own keys: one key makes the next, which revokes the first', async () => {
    const { call, adminKey, createTenant } = await localApi();
    const old = (await createTenant('acme')).key;
    const beta = (await createTenant('beta')).key;
    const made = await call('POST', '/v1/keys', old);
    expect(made).toMatchObject({ status: 201, json: { role: 'tenant', key: expect.stringMatching(/^bk_/) } });
    const next = made.json as { id: string; key: string };
    const listed = await call('GET', '/v1/keys', next.key);
    expect(listed.text).not.toContain(old);
    expect(listed.text).not.toContain(next.key);
    const oldId = (listed.json.items as { id: string }[]).find((k) => k.id !== next.id)?.id;
    expect((listed.json.items as unknown[]).length).toBe(2);
    expect((await call('GET', '/v1/tenant', next.key)).json.usage).toMatchObject({
      apiKeys: { used: 2, limit: 20 },
      repositories: { used: 0, limit: 100 },
    });

    // Never the key asking, nor another tenant's key, nor with an admin key.
    expect(await call('DELETE', `/v1/keys/${next.id}`, next.key)).toMatchObject({
      status: 409,
      json: { code: 'key.inUse' },
    });
    expect(await call('DELETE', `/v1/keys/${next.id}`, beta)).toMatchObject({
      status: 404,
      json: { code: 'key.notFound' },
    });
    expect((await call('GET', '/v1/keys', adminKey)).json.code).toBe('auth.forbidden');

    expect((await call('DELETE', `/v1/keys/${oldId}`, next.key)).status).toBe(204);
    expect((await call('GET', '/v1/tenant', old)).status).toBe(401);
    expect((await call('GET', '/v1/keys', next.key)).json.items).toEqual([
      expect.objectContaining({ id: next.id, prefix: next.key.slice(0, 9) }),
    ]);

    // Suspended: no new key, but a leaked one can still be revoked.
    const spare = (await call('POST', '/v1/keys', next.key)).json as { id: string };
    await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'suspended' });
    expect((await call('POST', '/v1/keys', next.key)).json.code).toBe('tenant.suspended');
    expect((await call('DELETE', `/v1/keys/${spare.id}`, next.key)).status).toBe(204);
  });

  it('never lets two keys revoke each other: the second, still cached as valid elsewhere, is refused', async () => {
    const first = await localApi();
    const other = clientFor(createApi(localDeps(first.wiring)), first.adminKey);
    const one = (await first.createTenant('acme')).key;
    const two = (await first.call('POST', '/v1/keys', one)).json as { id: string; key: string };
    const oneId = ((await first.call('GET', '/v1/keys', one)).json.items as { id: string }[]).find(
      (k) => k.id !== two.id,
    )?.id;
    // The other process has seen key two, and keeps it as valid for up to its cache's lifetime.
    expect((await other.call('GET', '/v1/tenant', two.key)).status).toBe(200);
    expect((await first.call('DELETE', `/v1/keys/${two.id}`, one)).status).toBe(204);
    expect(await other.call('DELETE', `/v1/keys/${oneId}`, two.key)).toMatchObject({
      status: 401,
      json: { code: 'auth.invalidKey', detail: 'the key this request came with was revoked meanwhile' },
    });
    expect((await first.call('GET', '/v1/keys', one)).json.items).toEqual([
      expect.objectContaining({ id: oneId }),
    ]);
  });

  it('holds at most 20 keys a tenant under parallel creates, and a revoked key frees its place', async () => {
    const { call, adminKey, createTenant } = await localApi();
    await createTenant('acme');
    const creates = await Promise.all(
      Array.from({ length: 30 }, () => call('POST', '/v1/tenants/acme/keys', adminKey)),
    );
    const made = creates.filter((res) => res.status === 201);
    expect(made).toHaveLength(19);
    for (const refused of creates.filter((res) => res.status !== 201)) {
      expect(refused).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    }
    const listed = await call('GET', '/v1/tenants/acme/keys?limit=100', adminKey);
    expect(listed.json.items).toHaveLength(20);

    const revoked = (made[0]?.json as { id?: string } | undefined)?.id;
    expect((await call('DELETE', `/v1/tenants/acme/keys/${revoked}`, adminKey)).status).toBe(204);
    expect((await call('DELETE', `/v1/tenants/acme/keys/${revoked}`, adminKey)).status).toBe(404);
    expect((await call('POST', '/v1/tenants/acme/keys', adminKey)).status).toBe(201);
    expect((await call('POST', '/v1/tenants/acme/keys', adminKey)).status).toBe(403);
  });

  it("never leaves behind a key created while its tenant's deletion runs", async () => {
    const { dynamodb, tableName, createTenant } = await localApi();
    await createTenant('acme');
    const other = new DynamoStore(dynamodb, tableName);
    const late = newTenantKey('acme', new Date());
    /** A store whose first key listing is followed, before the deletion writes, by another process's create. */
    class RacedStore extends DynamoStore {
      raced = false;
      override async listApiKeys(tenantId: string, page: PageRequest) {
        const listed = await super.listApiKeys(tenantId, page);
        if (!this.raced) {
          this.raced = true;
          await other.createApiKey(late.record, 20);
        }
        return listed;
      }
    }
    const store = new RacedStore(dynamodb, tableName);
    const tenant = await store.getTenant('acme');
    // The late key cancels the first try; the second lists it too and takes it along — If-Match still holds.
    if (!tenant) throw new Error('no tenant');
    await store.deleteTenant(tenant, new Date().toISOString());
    expect(store.raced).toBe(true);
    expect(await store.getTenant('acme')).toBeUndefined();
    expect(await store.findApiKeyByHash(late.record.hash)).toBeUndefined();
  });

  it("refuses a suspended tenant's writes but deletions and stops its replicas until it is reactivated", async () => {
    const { call, adminKey, createTenant, runtime, tableName, deps } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    const app = async () => (await call('GET', '/v1/apps/web', key)).json;
    const containers = () => labelledContainers(tableName, { 'berth.app': 'web' }).length;
    try {
      expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
      expect((await call('POST', '/v1/repositories', key, { name: 'spare' })).status).toBe(201);
      const spareKey = (await call('POST', '/v1/keys', key, { name: 'spare' })).json.id;
      await eventually('the app to run', async () => ((await app()).status === 'running' ? true : undefined));

      expect((await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'suspended' })).status).toBe(200);
      for (const [method, path, body] of [
        ['POST', '/v1/apps', sampleApp('api')],
        ['PATCH', '/v1/apps/web', { replicas: 2 }],
        ['POST', '/v1/apps/web/scale', { replicas: 2 }],
        ['POST', '/v1/apps/web/deployments', {}],
      ] as const) {
        const res = await call(method, path, key, body);
        expect({ method, path, status: res.status, code: res.json.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'tenant.suspended',
        });
      }
      // What only gives back still goes: a repository deleted, a key revoked (an app deleted: below).
      expect((await call('DELETE', '/v1/repositories/spare', key)).status).toBe(204);
      expect((await call('DELETE', `/v1/keys/${spareKey}`, key)).status).toBe(204);
      // Reads still answer, and say what the suspension did: nothing of the app runs.
      await eventually('the app to show its suspension', async () =>
        (await app()).status === 'suspended' && containers() === 0 ? true : undefined,
      );
      expect(await app()).toMatchObject({ readyReplicas: 0, currentRevision: 1 });

      const reactivated = await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'active' });
      // Kept for the deadline of a deployment that waited through the suspension; not part of the API's tenant.
      expect((await deps.store.getTenant('acme'))?.resumedAt).toBe(reactivated.json.updatedAt);
      expect(reactivated.json).not.toHaveProperty('resumedAt');
      await eventually('the app to run again', async () =>
        (await app()).status === 'running' && containers() === 1 ? true : undefined,
      );
      const events = (await call('GET', '/v1/apps/web/events', key)).json.items as { type: string }[];
      expect(events.map((e) => e.type).slice(0, 3)).toEqual(['resumed', 'suspended', 'deployed']);
      expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 2 })).status).toBe(200);

      // Offboarding: suspended again, the tenant's apps can still be deleted, and then the tenant.
      await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'suspended' });
      expect((await call('DELETE', '/v1/apps/web', key)).status).toBe(202);
      await untilAppGone(call, key, 'web', GONE_WITHIN_MS);
      expect(containers()).toBe(0);
      expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    } finally {
      // Should the test fail part-way, its app's containers still go.
      if ((await call('DELETE', '/v1/apps/web', key)).status === 202) {
        await untilAppGone(call, key, 'web', GONE_WITHIN_MS);
      }
      await runtime.loop.stop();
    }
  }, 120_000);

  it('deletes a tenant only without apps; its keys and repositories go with it', async () => {
    const { call, adminKey, createTenant, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    expect((await call('POST', '/v1/repositories', key, { name: 'images' })).status).toBe(201);
    expect(await call('DELETE', '/v1/tenants/acme', adminKey)).toMatchObject({
      status: 409,
      json: { code: 'tenant.hasApps', detail: 'tenant "acme" still has an app; delete it before the tenant' },
    });
    // Refused, it changed nothing.
    expect((await call('GET', '/v1/tenants/acme', adminKey)).json.tenant).toMatchObject({ status: 'active' });
    expect((await call('GET', '/v1/repositories', key)).json.items).toHaveLength(1);
    expect((await call('DELETE', '/v1/apps/web', key)).status).toBe(202);
    await untilAppGone(call, key, 'web', GONE_WITHIN_MS);
    await runtime.loop.stop();
    expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    expect((await call('GET', '/v1/tenants/acme', adminKey)).status).toBe(404);
    // Its keys stop at once in the deleting process, as a revoked key does.
    expect((await call('GET', '/v1/tenant', key)).status).toBe(401);
    // Its id is never used again: its usage and reports stay under it, and a tenant created with it would be billed
    // for them.
    const again = await call('POST', '/v1/tenants', adminKey, {
      id: 'acme',
      name: 'Acme again',
      plan: 'free',
    });
    expect(again).toMatchObject({ status: 409, json: { code: 'tenant.exists' } });
    expect(again.json.detail).toMatch(
      /^tenant id "acme" belonged to a tenant deleted at \d{4}-\d\d-\d\dT\S+Z; an id is never used again, since its usage and reports are kept under it: choose another$/,
    );
  });

  it('refuses unknown plans and duplicate ids with clear errors', async () => {
    const { call, adminKey, createTenant } = await localApi();
    await createTenant('acme');
    expect(
      await call('POST', '/v1/tenants', adminKey, { id: 'acme', name: 'Again', plan: 'free' }),
    ).toMatchObject({
      status: 409,
      json: { code: 'tenant.exists' },
    });
    expect(
      await call('POST', '/v1/tenants', adminKey, { id: 'new', name: 'New', plan: 'gold' }),
    ).toMatchObject({
      status: 400,
      json: { code: 'validation.failed', errors: [{ path: 'plan' }] },
    });
    expect(
      await call('POST', '/v1/plans', adminKey, {
        id: 'free',
        name: 'X',
        limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 1 },
      }),
    ).toMatchObject({
      status: 409,
      json: { code: 'plan.exists' },
    });
  });

  it('answers 404 tenant.notFound for every admin route of a tenant never made or deleted, creating nothing', async () => {
    const { call, adminKey, deps, createTenant } = await localApi();
    await createTenant('gone');
    expect((await call('DELETE', '/v1/tenants/gone', adminKey)).status).toBe(204);
    for (const tenant of ['nope', 'gone']) {
      const routes: [string, string, object?][] = [
        ['GET', `/v1/tenants/${tenant}`],
        ['PATCH', `/v1/tenants/${tenant}`, { name: 'Nope' }],
        ['DELETE', `/v1/tenants/${tenant}`],
        ['GET', `/v1/tenants/${tenant}/keys`],
        ['POST', `/v1/tenants/${tenant}/keys`, { name: 'ops' }],
      ];
      for (const [method, path, body] of routes) {
        expect({ method, path, ...(await call(method, path, adminKey, body)) }).toMatchObject({
          method,
          path,
          status: 404,
          json: { code: 'tenant.notFound' },
        });
      }
      expect(await deps.store.getTenant(tenant)).toBeUndefined();
      expect((await deps.store.listApiKeys(tenant, { limit: 10 })).items).toEqual([]);
    }
    // A deleted tenant's usage stays for the admin to read, as its reports do (they bill it); none was ever had.
    expect((await call('GET', '/v1/tenants/gone/usage', adminKey)).status).toBe(200);
    expect(await call('GET', '/v1/tenants/nope/usage', adminKey)).toMatchObject({
      status: 404,
      json: { code: 'tenant.notFound' },
    });
  });

  it('lets an app name be reused after deletion without the old revisions', async () => {
    const { call, createTenant, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    await call('POST', '/v1/apps/web/deployments', key, { env: { V: '2' } });
    await call('DELETE', '/v1/apps/web', key);
    await untilAppGone(call, key, 'web', GONE_WITHIN_MS);
    expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
    const revisions = await call('GET', '/v1/apps/web/revisions', key);
    expect((revisions.json.items as unknown[]).length).toBe(1);
    await call('DELETE', '/v1/apps/web', key);
    await untilAppGone(call, key, 'web', GONE_WITHIN_MS);
    await runtime.loop.stop();
  });
});
