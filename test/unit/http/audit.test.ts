import { describe, expect, it } from 'vitest';
import { keyPrefixOf } from '../../../functions/core/api-keys.ts';
import { createApi } from '../../../functions/http/api.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { clientFor, sampleApp } from '../../support/local-api.ts';

async function setup(rateLimit?: { ratePerSecond: number; burst: number }) {
  const { deps, adminKey, audited } = await fakeApiDeps(rateLimit);
  const api = createApi(deps);
  const client = clientFor(api, adminKey);
  const tenant = await client.createTenant('acme');
  return { api, adminKey, audited, tenant, ...client };
}

describe('the audit log', () => {
  it('records who made each write, with what it asked and how it ended, refusals included', async () => {
    const { call, adminKey, audited, tenant } = await setup();
    const created = await call('POST', '/v1/apps', tenant.key, sampleApp('web'));
    const refused = await call('POST', '/v1/apps', tenant.key, { ...sampleApp('api'), cpu: 3 });
    const suspended = await call('PATCH', '/v1/tenants/acme', adminKey, { status: 'suspended' });
    expect([created.status, refused.status, suspended.status]).toEqual([201, 400, 200]);
    const tenantKey = { role: 'tenant', key: tenant.id, tenantId: 'acme' };
    expect(audited).toEqual([
      // The tenant's creation, by the admin key, known by its prefix.
      expect.objectContaining({ method: 'POST', path: '/v1/tenants', status: 201, role: 'admin' }),
      {
        requestId: created.headers.get('request-id'),
        method: 'POST',
        path: '/v1/apps',
        status: 201,
        ...tenantKey,
      },
      {
        requestId: refused.headers.get('request-id'),
        method: 'POST',
        path: '/v1/apps',
        status: 400,
        ...tenantKey,
      },
      {
        requestId: suspended.headers.get('request-id'),
        method: 'PATCH',
        path: '/v1/tenants/acme',
        status: 200,
        role: 'admin',
        key: keyPrefixOf(adminKey),
      },
    ]);
    expect(JSON.stringify(audited)).not.toContain(adminKey);
    expect(JSON.stringify(audited)).not.toContain(tenant.key);
  });

  it('leaves reads, and requests without a valid key, to the access log', async () => {
    const { api, call, audited, tenant } = await setup();
    audited.length = 0;
    await call('GET', '/v1/apps', tenant.key);
    await api.request('/v1/apps', { method: 'HEAD', headers: { authorization: `Bearer ${tenant.key}` } });
    await call('POST', '/v1/apps', 'bk_revoked0000000000000000000000000000000000', sampleApp('web'));
    await call('DELETE', '/v1/apps/web', undefined);
    expect(audited).toEqual([]);
  });

  it('leaves out writes over their key’s rate limit: the log grows no faster than the limits let writes through', async () => {
    const { call, audited, tenant } = await setup({ ratePerSecond: 1, burst: 1 });
    audited.length = 0;
    const answers = [];
    for (const name of ['web', 'api', 'db'])
      answers.push((await call('POST', '/v1/repositories', tenant.key, { name })).status);
    expect(answers).toEqual([201, 429, 429]);
    expect(audited.map((entry) => entry.status)).toEqual([201]);
  });

  it('marks an answer replayed for its Idempotency-Key, which changed nothing this time', async () => {
    const { call, audited, tenant } = await setup();
    audited.length = 0;
    for (let i = 0; i < 2; i++) {
      await call('POST', '/v1/apps', tenant.key, sampleApp('web'), { 'idempotency-key': 'create-web' });
    }
    expect(audited.map((entry) => [entry.status, entry.replayed])).toEqual([
      [201, undefined],
      [201, true],
    ]);
  });

  it('names where the request came from: API Gateway’s source address, or the socket’s peer', async () => {
    const { api, audited, tenant } = await setup();
    audited.length = 0;
    const post = { method: 'POST', headers: { authorization: `Bearer ${tenant.key}` } };
    const lambdaEvent = { requestContext: { http: { sourceIp: '203.0.113.7' }, requestId: 'r-9' } };
    const nodeServer = { incoming: { socket: { remoteAddress: '::ffff:192.0.2.4' } } };
    await api.request('/v1/registry/token', post, lambdaEvent);
    await api.request('/v1/registry/token', post, nodeServer);
    expect(audited.map((entry) => [entry.requestId === 'r-9', entry.ip])).toEqual([
      [true, '203.0.113.7'],
      [false, '::ffff:192.0.2.4'],
    ]);
  });
});
