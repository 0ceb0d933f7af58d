import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { DynamoDbError } from '../../../functions/adapters/dynamodb/dynamodb-http.ts';
import { translateStoreError } from '../../../functions/adapters/dynamodb/errors.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createApi, MAX_BODY_BYTES } from '../../../functions/http/api.ts';
import type { RateLimitOptions } from '../../../functions/http/middleware/rate-limit.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { clientFor, sampleApp } from '../../support/local-api.ts';

async function setup(rateLimit?: RateLimitOptions) {
  const { deps, adminKey, errors } = await fakeApiDeps(rateLimit);
  const api = createApi(deps);
  const client = clientFor(api, adminKey);
  const tenantKey = (await client.createTenant('acme')).key;
  return { api, deps, adminKey, errors, tenantKey, ...client };
}

describe('the HTTP API', () => {
  it('answers /healthz without a key', async () => {
    const { call } = await setup();
    expect(await call('GET', '/healthz', undefined)).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('answers 401 problem+json without a key or with an unknown one', async () => {
    const { call } = await setup();
    for (const key of [undefined, 'bk_unknown-key-000000000000000000000000000', 'not-a-key']) {
      const res = await call('GET', '/v1/apps', key);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.json).toMatchObject({ status: 401, code: 'auth.invalidKey', instance: '/v1/apps' });
    }
  });

  it('lets no cache keep an answer of the API, refusals included', async () => {
    const { call, tenantKey } = await setup();
    const keyId = (await call('POST', '/v1/keys', tenantKey, {})).json.id as string;
    for (const [method, path, key, status] of [
      ['GET', '/v1/apps', tenantKey, 200],
      ['GET', '/v1/apps', 'bk_wrong', 401],
      ['GET', '/v1/apps?limit=0', tenantKey, 400],
      ['GET', '/v1/apps/nope', tenantKey, 404],
      ['GET', '/v1/nothing-here', tenantKey, 404],
      ['DELETE', `/v1/keys/${keyId}`, tenantKey, 204],
    ] as const) {
      const res = await call(method, path, key);
      expect({ path, status: res.status, cache: res.headers.get('cache-control') }).toEqual({
        path,
        status,
        cache: 'no-store',
      });
    }
  });

  it("makes each answer once: no middleware copies a finished one, off the local server's fast path", async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    // Hono makes answers with the global Response; on Node, @hono/node-server's, which it writes to the socket as
    // they are unless something reads their body to make another.
    let made = 0;
    vi.stubGlobal(
      'Response',
      class extends Response {
        constructor(...args: ConstructorParameters<typeof Response>) {
          super(...args);
          made++;
        }
      },
    );
    try {
      for (const [path, key, status] of [
        ['/v1/apps/web', tenantKey, 200],
        ['/v1/apps', tenantKey, 200],
        ['/v1/apps/nope', tenantKey, 404],
        ['/v1/apps', undefined, 401],
        ['/healthz', undefined, 200],
      ] as const) {
        made = 0;
        expect((await call('GET', path, key)).status).toBe(status);
        expect({ path, made }).toEqual({ path, made: 1 });
      }
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('answers 403 auth.forbidden for the wrong role', async () => {
    const { call, adminKey, tenantKey } = await setup();
    expect((await call('GET', '/v1/apps', adminKey)).json).toMatchObject({
      code: 'auth.forbidden',
      detail: 'this route needs a tenant key',
    });
    expect((await call('GET', '/v1/tenants', tenantKey)).json).toMatchObject({
      code: 'auth.forbidden',
      detail: 'this route needs an admin key',
    });
  });

  it('says where in the request a value is not valid: the body, the path or the query string', async () => {
    const { call, tenantKey } = await setup();
    expect((await call('POST', '/v1/apps', tenantKey, { name: 'Web' })).json.detail).toMatch(
      /^the request body is not valid: name: /,
    );
    expect((await call('GET', '/v1/billing/reports/2026-13', tenantKey)).json.detail).toBe(
      'the request path is not valid: period: must be a month as YYYY-MM',
    );
    expect((await call('GET', '/v1/apps?limit=0', tenantKey)).json.detail).toMatch(
      /^the request query string is not valid: limit: /,
    );
  });

  it('refuses a query parameter the route does not take, naming those it does, after its own role check', async () => {
    const { call, adminKey, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    expect(await call('GET', '/v1/apps/web/logs?limit=5&tail=5&folow=true', tenantKey)).toMatchObject({
      status: 400,
      json: {
        code: 'validation.failed',
        detail:
          'the request query string is not valid: limit: not a parameter; this route takes tail, since, follow; ' +
          'folow: not a parameter; this route takes tail, since, follow',
        errors: [{ path: 'limit' }, { path: 'folow' }],
      },
    });
    expect((await call('GET', '/v1/apps/web?verbose', tenantKey)).json).toMatchObject({
      code: 'validation.failed',
      errors: [{ path: 'verbose', message: 'not a parameter; this route takes none' }],
    });
    expect((await call('POST', '/v1/apps/web/stop?force=true', tenantKey)).status).toBe(400);
    // One without a name, which Hono's own parser drops.
    expect((await call('GET', '/v1/apps?=1', tenantKey)).json).toMatchObject({
      code: 'validation.failed',
      errors: [{ path: '(no name)', message: 'a parameter needs a name; this route takes limit, cursor' }],
    });
    expect((await call('GET', '/v1/apps/web?verbose', adminKey)).json).toMatchObject({
      code: 'auth.forbidden',
    });
    // The refused stop did not happen; the parameters a route takes still pass.
    expect((await call('GET', '/v1/apps/web', tenantKey)).json).toMatchObject({ status: 'deploying' });
    expect((await call('GET', '/v1/apps?limit=1&cursor=', tenantKey)).json.errors).toEqual([
      { path: 'cursor', message: expect.any(String) },
    ]);
    expect((await call('GET', '/v1/apps?limit=1', tenantKey)).status).toBe(200);
  });

  it('takes scaling schedules that can fire, checked by the parser the autoscaler reads them with', async () => {
    const { call, tenantKey } = await setup();
    const schedules = [
      { cron: '0 8 * * 1-5', timezone: 'Europe/Berlin', min: 2, max: 4 },
      { cron: '*/15 0-6,22,23 1,15 * 0', min: 1, max: 1 },
      { cron: '0 7 * JAN-MAR,dec Mon-Fri', min: 2, max: 3 },
    ];
    const created = await call('POST', '/v1/apps', tenantKey, {
      ...sampleApp('web'),
      scaling: { min: 1, max: 4, targetCpuPercent: 60, schedules },
    });
    expect(created.status, created.text).toBe(201);
    // A day the cron grammar does not name, and an hour the parser does not take.
    for (const [cron, message] of [
      ['0 8 * * MON-FRY', /^must be a 5-field/],
      ['0 24 * * *', /^is not a schedule that can fire/],
    ] as const) {
      const refused = [{ cron, min: 1, max: 1 }];
      expect(
        await call('PATCH', '/v1/apps/web', tenantKey, { scaling: { min: 1, max: 4, schedules: refused } }),
      ).toMatchObject({
        status: 400,
        json: { errors: [{ path: 'scaling.schedules.0.cron', message: expect.stringMatching(message) }] },
      });
    }
  });

  it('takes JSON whose Content-Type has whitespace before a parameter or ends with ";", as RFC 9110 lets it', async () => {
    const { call, tenantKey } = await setup();
    for (const type of [
      'application/json ; charset=utf-8',
      'application/json;',
      'application/json ;charset=UTF-8 ;',
    ]) {
      const created = await call('POST', '/v1/keys', tenantKey, { name: type }, { 'content-type': type });
      expect({ type, status: created.status, name: created.json.name }).toEqual({
        type,
        status: 201,
        name: type,
      });
    }
    // Another media type is still refused.
    const text = await call('POST', '/v1/keys', tenantKey, '{}', {
      'content-type': 'text/plain ; charset=utf-8',
    });
    expect(text.status).toBe(415);
  });

  it('refuses fields sent to an action that takes none, rather than ignoring them', async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const forced = await call('POST', '/v1/apps/web/stop', tenantKey, { force: true });
    expect(forced).toMatchObject({
      status: 400,
      json: { errors: [{ path: '(body)', message: 'unknown field(s): force' }] },
    });
    expect((await call('GET', '/v1/apps/web', tenantKey)).json.status).not.toBe('stopped');
    const scoped = await call('POST', '/v1/registry/token', tenantKey, {
      scope: 'repository:other/web:push',
    });
    expect(scoped).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    // No body, an empty one, and {} (as clients send on every POST) are taken.
    expect((await call('POST', '/v1/registry/token', tenantKey)).status).toBe(200);
    expect(
      (await call('POST', '/v1/registry/token', tenantKey, '', { 'content-type': 'application/json' }))
        .status,
    ).toBe(200);
    expect((await call('POST', '/v1/apps/web/stop', tenantKey, {})).status).toBe(202);
  });

  it('answers a report as CSV only when Accept prefers it, by its q-values', async () => {
    const { call, deps, tenantKey } = await setup();
    const period = deps.clock.now().toISOString().slice(0, 7);
    for (const [accept, type] of [
      ['text/csv', 'text/csv'],
      ['TEXT/CSV', 'text/csv'],
      ['text/*', 'text/csv'],
      ['application/json;q=0.5, text/csv', 'text/csv'],
      ['text/csv;q=0', 'application/json'],
      ['text/csv;q=0, */*', 'application/json'],
      ['application/json, text/csv;q=0.1', 'application/json'],
      ['*/*', 'application/json'],
    ] as const) {
      const res = await call('GET', `/v1/billing/reports/${period}`, tenantKey, undefined, { accept });
      expect({ accept, type: res.headers.get('content-type')?.split(';')[0] }).toEqual({ accept, type });
    }
  });

  it('returns an ETag and honours If-Match', async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const got = await call('GET', '/v1/apps/web', tenantKey);
    const etag = got.headers.get('etag') ?? '';
    expect(etag).toBe('"v1"');
    const ok = await call('PATCH', '/v1/apps/web', tenantKey, { replicas: 2 }, { 'if-match': etag });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"v2"');
    const stale = await call('PATCH', '/v1/apps/web', tenantKey, { replicas: 1 }, { 'if-match': etag });
    expect(stale).toMatchObject({ status: 412, json: { code: 'precondition.failed' } });
    const garbage = await call('DELETE', '/v1/apps/web', tenantKey, undefined, { 'if-match': 'nonsense' });
    expect(garbage.status).toBe(412);
    // The resource's `version` where its ETag belongs: the answer says how ETags read.
    const version = await call('DELETE', '/v1/apps/web', tenantKey, undefined, { 'if-match': '"2"' });
    expect(version).toMatchObject({
      status: 412,
      json: {
        detail:
          'If-Match "2" names no version of this resource: its ETags are "v" and a version, such as "v3", and a GET\'s ETag header gives the current one',
      },
    });
  });

  it('answers stop, start and restart with the ETag of the app they answer, which a write may go on with', async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    for (const action of ['stop', 'start', 'restart']) {
      const res = await call('POST', `/v1/apps/web/${action}`, tenantKey);
      expect(res.status, action).toBe(202);
      expect(res.headers.get('etag'), action).toBe(`"v${res.json.version}"`);
      expect((await call('GET', '/v1/apps/web', tenantKey)).headers.get('etag')).toBe(
        res.headers.get('etag'),
      );
    }
    const etag = (await call('POST', '/v1/apps/web/stop', tenantKey)).headers.get('etag') ?? '';
    const patched = await call('PATCH', '/v1/apps/web', tenantKey, { replicas: 2 }, { 'if-match': etag });
    expect(patched.status).toBe(200);
  });

  it('clears what a PATCH sends as null: the command, the environment, the health check and the scaling', async () => {
    const { call, tenantKey } = await setup();
    const app = sampleApp('web', {
      command: ['httpd', '-f'],
      env: { A: '1' },
      healthCheck: { path: '/healthz' },
      scaling: { min: 1, max: 3 },
    });
    expect((await call('POST', '/v1/apps', tenantKey, app)).status).toBe(201);
    const cleared = await call('PATCH', '/v1/apps/web', tenantKey, {
      command: null,
      env: null,
      healthCheck: null,
      scaling: null,
    });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ command: null, env: {}, healthCheck: null, scaling: null });
  });

  it("honours If-Match on an app's actions as on PATCH: a stale ETag is 412 and does nothing", async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const stale = (await call('GET', '/v1/apps/web', tenantKey)).headers.get('etag') ?? '';
    expect((await call('PATCH', '/v1/apps/web', tenantKey, { env: { A: '1' } })).status).toBe(200);
    const deployments = async () =>
      ((await call('GET', '/v1/apps/web/deployments', tenantKey)).json.items as []).length;
    for (const [action, body] of [
      ['stop', undefined],
      ['start', undefined],
      ['restart', undefined],
      ['deployments', {}],
      ['rollback', { revision: 1 }],
    ] as const) {
      const before = await call('GET', '/v1/apps/web', tenantKey);
      const made = await deployments();
      const refused = await call('POST', `/v1/apps/web/${action}`, tenantKey, body, { 'if-match': stale });
      expect([action, refused.status, refused.json.code]).toEqual([action, 412, 'precondition.failed']);
      expect((await call('GET', '/v1/apps/web', tenantKey)).json).toEqual(before.json);
      expect(await deployments()).toBe(made);
      const current = before.headers.get('etag') ?? '';
      const done = await call('POST', `/v1/apps/web/${action}`, tenantKey, body, { 'if-match': current });
      expect([action, done.status]).toEqual([action, 202]);
    }
  });

  it('applies a write when any ETag of an If-Match list is current, a weak one naming its version too', async () => {
    const { call, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const scale = (replicas: number, ifMatch: string) =>
      call('PATCH', '/v1/apps/web', tenantKey, { replicas }, { 'if-match': ifMatch });
    expect((await scale(2, '"v7", "v1"')).headers.get('etag')).toBe('"v2"');
    expect((await scale(3, '"x,y" ,"v2"')).headers.get('etag')).toBe('"v3"');
    // As a proxy that compresses answers passes the ETag on.
    expect((await scale(2, 'W/"v3"')).headers.get('etag')).toBe('"v4"');
    // An empty header (an ETag variable that came up empty) is a list of no tags, not the absence of a condition.
    for (const ifMatch of ['"v1", W/"v3"', '"v4" junk', '"v4", *', '""', '', ' ', ',']) {
      expect(await scale(1, ifMatch), ifMatch).toMatchObject({
        status: 412,
        json: { code: 'precondition.failed' },
      });
    }
    expect((await call('GET', '/v1/apps/web', tenantKey)).json).toMatchObject({ replicas: 2, version: 4 });
  });

  it('holds GET deployment ?wait=N until the deployment ends, and never past the long-poll bound', async () => {
    const { call, deps, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const [listed] = (await call('GET', '/v1/apps/web/deployments', tenantKey)).json.items as {
      id: string;
    }[];
    const path = `/v1/apps/web/deployments/${listed?.id}`;
    expect((await call('GET', path, tenantKey)).json.status).toBe('pending');

    const waiting = call('GET', `${path}?wait=5`, tenantKey);
    const [record] = [...deps.store.deployments.values()];
    if (!record) throw new Error('no deployment');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const succeeded = { ...record, status: 'succeeded' as const };
    expect(await deps.store.updateDeployment(succeeded, record)).toBe(true);
    expect((await waiting).json.status).toBe('succeeded');

    // Behind API Gateway the wait is cut to the long-poll bound: the answer comes, still in progress.
    await deps.store.updateDeployment({ ...record, status: 'in_progress' }, succeeded);
    deps.bufferedAnswers = { waitMs: 300, maxBodyBytes: 5 * 1024 * 1024 };
    expect(await call('GET', `${path}?wait=30`, tenantKey)).toMatchObject({
      status: 200,
      json: { status: 'in_progress' },
    });
  });

  it('stops waiting for a deployment, and reading it, once the client has gone', async () => {
    const { api, call, deps, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    const [listed] = (await call('GET', '/v1/apps/web/deployments', tenantKey)).json.items as {
      id: string;
    }[];
    const reads = vi.spyOn(deps.store, 'getDeployment');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new AbortController();
      const answer = api.request(`/v1/apps/web/deployments/${listed?.id}?wait=30`, {
        headers: { authorization: `Bearer ${tenantKey}` },
        signal: client.signal,
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(reads).toHaveBeenCalledTimes(1);
      // The client leaves: the answer comes with no more time passing, and the deployment is read no more.
      client.abort();
      expect((await answer).status).toBe(200);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rolls back with or without a body, and refuses a revision that is not a number', async () => {
    const { call, deps, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    for (const record of deps.store.deployments.values()) {
      await deps.store.updateDeployment({ ...record, status: 'succeeded' }, record);
    }
    await call('POST', '/v1/apps/web/deployments', tenantKey, { env: { RELEASE: '2' } });
    const bare = await call('POST', '/v1/apps/web/rollback', tenantKey);
    expect(bare).toMatchObject({ status: 202, json: { revision: 1, trigger: 'rollback' } });
    // Revision 2 never went live, so nothing is left to go back to — asked with `{}`, or with a body sent empty
    // under a JSON Content-Type (as clients that always set the header do), which is no body, not malformed JSON.
    for (const body of [{}, '']) {
      expect(await call('POST', '/v1/apps/web/rollback', tenantKey, body)).toMatchObject({
        status: 409,
        json: { code: 'revision.noPrevious' },
      });
    }
    expect(await call('POST', '/v1/apps/web/rollback', tenantKey, { revision: 2 })).toMatchObject({
      status: 202,
      json: { revision: 2 },
    });
    expect(await call('POST', '/v1/apps/web/rollback', tenantKey, '{"revision": ')).toMatchObject({
      status: 400,
      json: { code: 'validation.failed' },
    });
    expect(await call('POST', '/v1/apps/web/rollback', tenantKey, { revision: '1' })).toMatchObject({
      status: 400,
      json: { code: 'validation.failed' },
    });
  });

  it('makes a tenant key whether the optional body is left out, empty or {}', async () => {
    const { call, adminKey } = await setup();
    for (const body of [undefined, '', {}]) {
      expect((await call('POST', '/v1/tenants/acme/keys', adminKey, body)).status).toBe(201);
    }
    expect((await call('POST', '/v1/tenants/acme/keys', adminKey, '{')).status).toBe(400);
  });

  it('restarts a running app, says when, and refuses to restart a stopped one', async () => {
    const { call, deps, tenantKey } = await setup();
    await call('POST', '/v1/apps', tenantKey, sampleApp('web'));
    expect((await call('GET', '/v1/apps/web', tenantKey)).json.restartedAt).toBeNull();
    const restarted = await call('POST', '/v1/apps/web/restart', tenantKey);
    expect(restarted).toMatchObject({ status: 202, json: { restartedAt: deps.clock.now().toISOString() } });
    expect((await call('GET', '/v1/apps/web', tenantKey)).json.restartedAt).toBe(restarted.json.restartedAt);
    await call('POST', '/v1/apps/web/stop', tenantKey);
    expect(await call('POST', '/v1/apps/web/restart', tenantKey)).toMatchObject({
      status: 409,
      json: { code: 'app.stopped' },
    });
  });

  it('refuses a tenant id with "--", which separates app from tenant in app hostnames', async () => {
    const { call, adminKey } = await setup();
    expect(
      await call('POST', '/v1/tenants', adminKey, { id: 'a--b', name: 'A', plan: 'free' }),
    ).toMatchObject({
      status: 400,
      json: { code: 'validation.failed', errors: [{ path: 'id' }] },
    });
    expect((await call('POST', '/v1/tenants', adminKey, { id: 'a-b', name: 'A', plan: 'free' })).status).toBe(
      201,
    );
  });

  it('refuses tenant and plan names with control characters or bidirectional overrides, and keeps the old name', async () => {
    const { call, adminKey } = await setup();
    for (const name of ['Acme\nTotal: $0', 'Acme\u001b[2J', 'Acme\u0085', 'Acme\u202eemca']) {
      const tenant = await call('PATCH', '/v1/tenants/acme', adminKey, { name });
      expect(tenant, JSON.stringify(name)).toMatchObject({
        status: 400,
        json: { errors: [{ path: 'name' }] },
      });
      const plan = await call('POST', '/v1/plans', adminKey, { id: 'gold', name, limits: { apps: 1 } });
      expect(plan.status, JSON.stringify(name)).toBe(400);
    }
    const before = await call('GET', '/v1/tenants/acme', adminKey);
    expect(before.json.tenant).toMatchObject({ name: 'ACME', version: 1 });
    const emoji = await call('PATCH', '/v1/tenants/acme', adminKey, { name: '  Acme 👩‍💻 Ünïcode  ' });
    expect(emoji).toMatchObject({ status: 200, json: { name: 'Acme 👩‍💻 Ünïcode' } });
  });

  it('refuses an image whose registry name resolves into a private network, on create and deploy', async () => {
    const { call, deps, tenantKey } = await setup();
    deps.hosts.names.set('rebind.example.com', ['10.0.3.7']);
    const image = 'rebind.example.com/acme/web:1';
    const refused = { status: 400, json: { code: 'validation.failed', errors: [{ path: 'image' }] } };
    expect(await call('POST', '/v1/apps', tenantKey, sampleApp('web', { image }))).toMatchObject(refused);
    expect((await call('GET', '/v1/apps/web', tenantKey)).status).toBe(404);
    expect((await call('POST', '/v1/apps', tenantKey, sampleApp('web'))).status).toBe(201);
    expect(await call('POST', '/v1/apps/web/deployments', tenantKey, { image })).toMatchObject(refused);
    expect(await call('PATCH', '/v1/apps/web', tenantKey, { image })).toMatchObject(refused);
    expect((await call('GET', '/v1/apps/web/revisions', tenantKey)).json.items).toHaveLength(1);
  });

  it("checks another registry's host again on a rollback: a name may have moved into the apps' network since", async () => {
    const { call, deps, tenantKey } = await setup();
    const image = 'registry.corp.example.com/acme/web:1';
    expect((await call('POST', '/v1/apps', tenantKey, sampleApp('web', { image }))).status).toBe(201);
    expect(
      (await call('POST', '/v1/apps/web/deployments', tenantKey, { env: { RELEASE: '2' } })).status,
    ).toBe(202);
    deps.hosts.privateDomains.push('corp.example.com');
    expect(await call('POST', '/v1/apps/web/rollback', tenantKey, { revision: 1 })).toMatchObject({
      status: 400,
      json: {
        code: 'validation.failed',
        detail: `image "${image}" names registry host "registry.corp.example.com", which the apps' network resolves privately (corp.example.com); use the platform registry or a public one`,
      },
    });
    expect((await call('GET', '/v1/apps/web', tenantKey)).json).toMatchObject({ targetRevision: 2 });
    deps.hosts.privateDomains.length = 0;
    expect(await call('POST', '/v1/apps/web/rollback', tenantKey, { revision: 1 })).toMatchObject({
      status: 202,
      json: { revision: 1, trigger: 'rollback' },
    });
  });

  it('answers 413 for bodies over 64 KiB, 415 for non-JSON and 400 for malformed JSON', async () => {
    const { call, tenantKey } = await setup();
    const big = JSON.stringify({ ...sampleApp('web'), env: { A: 'x'.repeat(MAX_BODY_BYTES) } });
    expect(await call('POST', '/v1/apps', tenantKey, big)).toMatchObject({
      status: 413,
      json: { code: 'payload.tooLarge' },
    });
    const text = await call('POST', '/v1/apps', tenantKey, 'name=web', { 'content-type': 'text/plain' });
    expect(text).toMatchObject({ status: 415, json: { code: 'media.unsupported' } });
    const empty = await call('POST', '/v1/apps', tenantKey, '');
    expect(empty).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    const malformed = await call('POST', '/v1/apps', tenantKey, '{"name": ');
    expect(malformed).toMatchObject({
      status: 400,
      json: { code: 'validation.failed', detail: expect.stringMatching(/malformed JSON/i) },
    });
  });

  it('answers 415 naming the coding it takes to a compressed body, and takes an uncompressed one', async () => {
    const { api, call, tenantKey } = await setup();
    const body = gzipSync(JSON.stringify(sampleApp('web')));
    for (const coding of ['gzip', 'br', 'GZIP ']) {
      const zipped = await api.request('/v1/apps', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tenantKey}`,
          'content-type': 'application/json',
          'content-encoding': coding,
        },
        body,
      });
      expect(zipped.status).toBe(415);
      expect(zipped.headers.get('accept-encoding')).toBe('identity');
      expect(await zipped.json()).toMatchObject({
        code: 'media.unsupported',
        detail: expect.stringContaining('without a Content-Encoding'),
      });
    }
    expect((await call('GET', '/v1/apps/web', tenantKey)).status).toBe(404);
    const plain = await call('POST', '/v1/apps', tenantKey, sampleApp('web'), {
      'content-encoding': 'identity',
    });
    expect(plain.status).toBe(201);
  });

  it('rate-limits per tenant, all its keys together, with 429 and Retry-After', async () => {
    const { call, deps, tenantKey, adminKey } = await setup({ ratePerSecond: 1, burst: 3 });
    const other = await call('POST', '/v1/tenants/acme/keys', adminKey);
    const otherKey = (other.json as { key: string }).key;
    const beta = (await call('POST', '/v1/tenants', adminKey, { id: 'beta', name: 'Beta', plan: 'free' }))
      .json.apiKey as { key: string };
    deps.clock.advance(3000); // the admin's bucket full again
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('GET', '/v1/apps', tenantKey)).status);
    // The admin's requests that made the tenant and its keys do not count against it.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Another key of the same tenant shares its limit: a tenant makes keys, so it must not multiply its rate.
    const limited = await call('GET', '/v1/apps', otherKey);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.json).toMatchObject({
      code: 'rate.limited',
      detail: 'too many requests; retry after 1 s',
    });
    expect((await call('GET', '/v1/apps', beta.key)).status).toBe(200);
    expect((await call('GET', '/v1/plans', adminKey)).status).toBe(200);
  });

  it('refills a tenant’s bucket at its rate, and no faster, however often it asks meanwhile', async () => {
    const { call, deps, tenantKey } = await setup({ ratePerSecond: 1, burst: 3 });
    const statuses = async (n: number) => {
      const got: number[] = [];
      for (let i = 0; i < n; i++) got.push((await call('GET', '/v1/apps', tenantKey)).status);
      return got;
    };
    expect(await statuses(4)).toEqual([200, 200, 200, 429]);
    // A second on, one request more each second: the bucket counts from its last request, not its first.
    for (let second = 0; second < 3; second++) {
      deps.clock.advance(1000);
      expect(await statuses(2)).toEqual([200, 429]);
    }
  });

  it('tells a refused tenant how long its bucket takes to hold the request again, in whole seconds', async () => {
    const { call, tenantKey } = await setup({ ratePerSecond: 0.25, burst: 1 });
    expect((await call('GET', '/v1/apps', tenantKey)).status).toBe(200);
    const limited = await call('GET', '/v1/apps', tenantKey);
    expect(limited).toMatchObject({ status: 429, json: { detail: 'too many requests; retry after 4 s' } });
    expect(limited.headers.get('retry-after')).toBe('4');
  });

  it("shares a tenant's limit between API processes when the count is shared, window by window", async () => {
    const { deps, tenantKey, call } = await setup({ ratePerSecond: 1, burst: 3, shared: true });
    // A second API process over the same table: as two Lambda instances are.
    const other = clientFor(createApi(deps), 'unused');
    // Windows of burst ÷ rate = 3 s; start at the beginning of one.
    deps.clock.advance(3000 - (deps.clock.now().getTime() % 3000));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await (i % 2 ? other.call : call)('GET', '/v1/apps', tenantKey)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    deps.clock.advance(2000);
    const limited = await other.call('GET', '/v1/apps', tenantKey);
    expect(limited).toMatchObject({ status: 429, json: { code: 'rate.limited' } });
    expect(limited.headers.get('retry-after')).toBe('1'); // the window ends in 1 s
    deps.clock.advance(1000);
    expect((await call('GET', '/v1/apps', tenantKey)).status).toBe(200);
  });

  it('deletes a tenant with its repositories, and finishes the job when asked again after a registry failure', async () => {
    const { call, deps, adminKey, tenantKey } = await setup();
    await call('POST', '/v1/repositories', tenantKey, { name: 'web' });
    await call('POST', '/v1/repositories', tenantKey, { name: 'api' });
    const deleting = vi
      .spyOn(deps.registry, 'deleteRepository')
      .mockRejectedValueOnce(new UnavailableError('the image registry is unavailable; retry shortly'));
    expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(503);
    // Part-way: suspended, so nothing new is made while it goes; nothing else lost.
    expect((await call('GET', '/v1/tenants/acme', adminKey)).json.tenant).toMatchObject({
      status: 'suspended',
    });
    expect((await call('POST', '/v1/repositories', tenantKey, { name: 'more' })).json.code).toBe(
      'tenant.suspended',
    );
    expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    expect(deleting).toHaveBeenCalledTimes(3); // the failed one, then both
    expect(await deps.registry.listRepositories('acme')).toEqual([]);
    expect((await call('GET', '/v1/tenants/acme', adminKey)).status).toBe(404);
    // Its key, used (so cached) a moment ago, stops at once.
    expect((await call('GET', '/v1/tenant', tenantKey)).json.code).toBe('auth.invalidKey');
  });

  it('answers unknown routes with a 404 problem, and a method a route does not take with 405 and Allow', async () => {
    const { call, tenantKey, api } = await setup();
    expect(await call('GET', '/v1/nothing', tenantKey)).toMatchObject({
      status: 404,
      json: { code: 'route.notFound' },
    });
    expect(await call('PATCH', '/v1/apps/web/nothing', tenantKey)).toMatchObject({ status: 404 });
    const put = await api.request('/v1/apps/web', {
      method: 'PUT',
      headers: { authorization: `Bearer ${tenantKey}` },
    });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expect(await put.json()).toMatchObject({
      code: 'method.notAllowed',
      title: 'Method Not Allowed',
      detail: '/v1/apps/web answers DELETE, GET, HEAD, PATCH, not PUT',
    });
    const health = await api.request('/healthz', { method: 'POST' });
    expect({ status: health.status, allow: health.headers.get('allow') }).toEqual({
      status: 405,
      allow: 'GET, HEAD',
    });
  });

  it('hides internals of unexpected errors behind a logged 500', async () => {
    const { call, tenantKey, deps, errors } = await setup();
    deps.store.listApps = async () => {
      throw new Error('secret internal detail');
    };
    const res = await call('GET', '/v1/apps', tenantKey);
    expect(res).toMatchObject({ status: 500, json: { code: 'internal' } });
    expect(res.text).not.toContain('secret');
    // The caller can quote the request; the log line names it.
    const id = res.headers.get('request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.detail).toContain(id);
    expect(errors).toEqual([expect.objectContaining({ requestId: id })]);
  });

  it('logs no error for a body cut short by the client going away', async () => {
    const { api, adminKey, errors } = await setup();
    const client = new AbortController();
    // As Node has it when the connection closes mid-body: the request aborted, then its body failing.
    const body = new ReadableStream({
      pull(stream) {
        client.abort('Client connection prematurely closed.');
        stream.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      },
    });
    const res = await api.request('/v1/plans', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
      signal: client.signal,
    } as RequestInit);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'validation.failed',
      detail: 'the client went away before its request came whole',
    });
    expect(errors).toEqual([]);
  });

  it('answers a connection reset the API met itself, its client still there, as a logged 500', async () => {
    const { call, tenantKey, deps, errors } = await setup();
    deps.store.listApps = async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    const res = await call('GET', '/v1/apps', tenantKey);
    expect(res).toMatchObject({ status: 500, json: { code: 'internal' } });
    expect(errors).toEqual([expect.objectContaining({ requestId: res.headers.get('request-id') })]);
  });

  it("answers a dependency's failure 503 with Retry-After, logging what the dependency said", async () => {
    const { call, tenantKey, deps, errors } = await setup();
    const throttled = new DynamoDbError('ThrottlingException', 'Rate exceeded for table berth-internal', 400);
    deps.store.listApps = async () => translateStoreError(throttled);
    const res = await call('GET', '/v1/apps', tenantKey);
    expect(res).toMatchObject({ status: 503, json: { code: 'unavailable' } });
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.text).not.toContain('berth-internal');
    expect(errors).toEqual([
      expect.objectContaining({
        requestId: res.headers.get('request-id'),
        error: expect.objectContaining({ code: 'unavailable', cause: throttled }),
      }),
    ]);
  });

  it('names every answer with its own Request-Id, never one the caller sent', async () => {
    const { call, tenantKey } = await setup();
    const answers = [
      await call('GET', '/healthz', undefined),
      await call('GET', '/v1/apps', undefined),
      await call('GET', '/v1/apps', tenantKey, undefined, { 'request-id': 'mine' }),
      await call('POST', '/v1/apps', tenantKey, 'x'.repeat(MAX_BODY_BYTES + 1)),
      await call('POST', '/v1/apps', tenantKey, sampleApp('web'), { 'idempotency-key': 'k' }),
      await call('POST', '/v1/apps', tenantKey, sampleApp('web'), { 'idempotency-key': 'k' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 413, 201, 201]);
    const ids = answers.map((a) => a.headers.get('request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves the OpenAPI document and an offline docs page', async () => {
    const { call } = await setup();
    const doc = await call('GET', '/openapi.json', undefined);
    expect(doc.json).toMatchObject({ openapi: '3.1.0' });
    const docs = await call('GET', '/docs', undefined);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(docs.text).toContain('openapi.json');
    expect(docs.text).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/);
    // Only the page's own script and style run, by their hashes, and it fetches only from its own origin.
    const policy = new Map(
      (docs.headers.get('content-security-policy') ?? '').split('; ').map((d) => {
        const [name = '', ...values] = d.split(' ');
        return [name, values.join(' ')];
      }),
    );
    const hashOf = (tag: string) => {
      const inner = docs.text.match(new RegExp(`<${tag}>([\\s\\S]*)</${tag}>`))?.[1] ?? '';
      return `'sha256-${createHash('sha256').update(inner).digest('base64')}'`;
    };
    expect(Object.fromEntries(policy)).toEqual({
      'default-src': "'none'",
      'script-src': hashOf('script'),
      'style-src': hashOf('style'),
      'connect-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
  });

  it("answers with browsers' safeguards: no sniffing, no framing, no referrer, HTTPS only, no subdomains pinned", async () => {
    const { call } = await setup();
    for (const path of ['/healthz', '/v1/apps', '/nowhere']) {
      const { headers } = await call('GET', path, undefined);
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('strict-transport-security')).toBe('max-age=15552000');
    }
  });
});
