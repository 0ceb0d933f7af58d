import { beforeAll, describe, expect, it } from 'vitest';
import { localApi, sampleApp } from '../support/local-api.ts';

type Api = Awaited<ReturnType<typeof localApi>>;

/** Every tenant route that names an object, with a body where it takes one. DELETE comes last. */
function objectRoutes(deploymentId: string): [method: string, path: string, body?: unknown][] {
  return [
    ['GET', '/v1/apps/web'],
    ['PATCH', '/v1/apps/web', { replicas: 2 }],
    ['POST', '/v1/apps/web/scale', { replicas: 1 }],
    ['POST', '/v1/apps/web/deployments', { env: { MODE: 'x' } }],
    ['GET', '/v1/apps/web/deployments'],
    ['GET', `/v1/apps/web/deployments/${deploymentId}`],
    ['POST', '/v1/apps/web/rollback', { revision: 1 }],
    ['GET', '/v1/apps/web/revisions'],
    ['GET', '/v1/apps/web/revisions/1'],
    ['DELETE', '/v1/apps/web'],
  ];
}

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ['GET', '/v1/plans'],
  [
    'POST',
    '/v1/plans',
    { id: 'x', name: 'X', limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 } },
  ],
  ['GET', '/v1/plans/free'],
  ['PATCH', '/v1/plans/free', { name: 'Free!' }],
  ['POST', '/v1/tenants', { id: 'x', name: 'X', plan: 'free' }],
  ['GET', '/v1/tenants'],
  ['GET', '/v1/tenants/tenant-a'],
  ['PATCH', '/v1/tenants/tenant-a', { status: 'suspended' }],
  ['DELETE', '/v1/tenants/tenant-a'],
  ['POST', '/v1/tenants/tenant-a/keys', {}],
  ['GET', '/v1/tenants/tenant-a/keys'],
  ['DELETE', '/v1/tenants/tenant-a/keys/key_0000000000000'],
];

const TENANT_ROUTES: [string, string, unknown?][] = [
  ['GET', '/v1/tenant'],
  ['GET', '/v1/apps'],
  ['POST', '/v1/apps', sampleApp('web2')],
];

describe('tenant isolation on DynamoDB Local', () => {
  let api: Api;
  let keyA: string;
  let keyB: string;
  let deploymentId: string;

  beforeAll(async () => {
    api = await localApi();
    keyA = (await api.createTenant('tenant-a')).key;
    keyB = (await api.createTenant('tenant-b')).key;
    await api.call('POST', '/v1/apps', keyA, sampleApp('web'));
    const deployments = await api.call('GET', '/v1/apps/web/deployments', keyA);
    deploymentId = (deployments.json.items as { id: string }[])[0]?.id ?? '';
  });

  it("answers 404 to every route on another tenant's app, and 2xx to its owner", async () => {
    for (const [method, path, body] of objectRoutes(deploymentId)) {
      const intruder = await api.call(method, path, keyB, body);
      expect({ method, path, status: intruder.status, code: intruder.json?.code }).toEqual({
        method,
        path,
        status: 404,
        code: 'app.notFound',
      });
      const owner = await api.call(method, path, keyA, body);
      expect({ method, path, ok: owner.status >= 200 && owner.status < 300 }).toEqual({
        method,
        path,
        ok: true,
      });
    }
    // Tenant B's view was never touched by any of it.
    expect((await api.call('GET', '/v1/apps', keyB)).json.items).toEqual([]);
    expect((await api.call('GET', '/v1/tenant', keyB)).json.usage).toMatchObject({ apps: { used: 0 } });
  });

  it("answers 404 to another tenant's repository, and deletes it for its owner", async () => {
    expect((await api.call('POST', '/v1/repositories', keyA, { name: 'images' })).status).toBe(201);
    for (const [method, path] of [
      ['GET', '/v1/repositories/images/images'],
      ['DELETE', '/v1/repositories/images'],
    ] as const) {
      const intruder = await api.call(method, path, keyB);
      expect({ method, path, status: intruder.status, code: intruder.json?.code }).toEqual({
        method,
        path,
        status: 404,
        code: 'repository.notFound',
      });
    }
    expect((await api.call('GET', '/v1/repositories', keyA)).json.items).toEqual([
      expect.objectContaining({ name: 'images' }),
    ]);
    expect((await api.call('DELETE', '/v1/repositories/images', keyA)).status).toBe(204);
    expect((await api.call('GET', '/v1/repositories', keyA)).json.items).toEqual([]);
  });

  it("refuses a list cursor that starts in another tenant's data, and pages on with the owner's", async () => {
    for (const name of ['page-1', 'page-2']) {
      expect((await api.call('POST', '/v1/apps', keyA, sampleApp(name))).status).toBe(201);
    }
    const first = await api.call('GET', '/v1/apps?limit=1', keyA);
    const cursor = first.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const next = await api.call('GET', `/v1/apps?limit=1&cursor=${encodeURIComponent(cursor)}`, keyA);
    const names = (res: { json: Record<string, unknown> }) =>
      (res.json.items as { name: string }[]).map((a) => a.name);
    expect([names(first), names(next)]).toEqual([['page-1'], ['page-2']]);

    const cursorOf = (start: unknown) =>
      encodeURIComponent(Buffer.from(JSON.stringify(start)).toString('base64url'));
    const forged = [
      encodeURIComponent(cursor), // tenant A's own cursor, sent by tenant B
      cursorOf({ pk: 'tenant#tenant-a', sk: 'app#web' }),
      cursorOf({ pk: 'tenant#tenant-b', sk: 'key#' }), // B's partition, but outside its apps
      cursorOf({ pk: 'tenant#tenant-b' }),
      // B's own apps, but no start key DynamoDB takes.
      cursorOf({ pk: 'tenant#tenant-b', sk: 'app#web', at: 'app#web' }),
      cursorOf({ pk: 'tenant#tenant-b', sk: 7 }),
      // JSON, but no start key at all.
      cursorOf(null),
      cursorOf(['tenant#tenant-b', 'app#web']),
      cursorOf('tenant#tenant-b'),
    ];
    for (const c of forged) {
      const res = await api.call('GET', `/v1/apps?cursor=${c}`, keyB);
      expect({ status: res.status, code: res.json?.code }).toEqual({
        status: 400,
        code: 'validation.failed',
      });
    }
  });

  it('answers 403 to a tenant key on every admin route', async () => {
    for (const [method, path, body] of ADMIN_ROUTES) {
      const res = await api.call(method, path, keyA, body);
      expect({ method, path, status: res.status, code: res.json?.code }).toEqual({
        method,
        path,
        status: 403,
        code: 'auth.forbidden',
      });
    }
  });

  it('answers 403 to the admin key on tenant routes', async () => {
    for (const [method, path, body] of TENANT_ROUTES) {
      const res = await api.call(method, path, api.adminKey, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    }
  });

  it('answers 401 without a key on every route', async () => {
    for (const [method, path, body] of [...ADMIN_ROUTES, ...TENANT_ROUTES, ...objectRoutes(deploymentId)]) {
      const res = await api.call(method, path, undefined, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
    }
  });
});
