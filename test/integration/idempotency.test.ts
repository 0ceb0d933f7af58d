import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../functions/core/errors.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

describe('Idempotency-Key on DynamoDB Local', () => {
  it('replays the first response for the same key and body, creating one resource', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'create-web-1' };
    const first = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    const second = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('location')).toBe('/v1/apps/web');
    const deployments = await call('GET', '/v1/apps/web/deployments', key);
    expect(deployments.json.items).toHaveLength(1);
  });

  it('replays a secret shown once, which the table holds only sealed with the Idempotency-Key', async () => {
    const { call, adminKey, dynamodb, tableName } = await localApi();
    const tenant = { id: 'acme', name: 'Acme', plan: 'free' };
    const headers = { 'idempotency-key': '4f1c2d8e-8a4b-4c7e-9f0a-2b6d3e5f7a91' };
    const created = await call('POST', '/v1/tenants', adminKey, tenant, headers);
    const replayed = await call('POST', '/v1/tenants', adminKey, tenant, headers);
    expect(created.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.text).toBe(created.text);
    const keyHeaders = { 'idempotency-key': 'b7e0c9a2-3d4f-4e5a-8b6c-1d2e3f4a5b6c' };
    const second = await call('POST', '/v1/tenants/acme/keys', adminKey, undefined, keyHeaders);
    expect((await call('POST', '/v1/tenants/acme/keys', adminKey, undefined, keyHeaders)).text).toBe(
      second.text,
    );

    const secrets = [(created.json.apiKey as { key: string }).key, second.json.key];
    const { Items = [] } = await dynamodb.call<{ Items?: unknown[] }>('Scan', { TableName: tableName });
    const table = JSON.stringify(Items);
    expect(table).toContain('idempotency');
    for (const secret of secrets) {
      expect(secret).toMatch(/^bk_/);
      expect(table).not.toContain(secret);
    }
  });

  it('answers 422 when the key comes back with another body', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'k-1' };
    await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    const other = await call('POST', '/v1/apps', key, sampleApp('api'), headers);
    expect(other).toMatchObject({ status: 422, json: { code: 'idempotency.mismatch' } });
    expect((await call('GET', '/v1/apps/api', key)).status).toBe(404);
  });

  it('replays the first answer for the same fields sent with other spacing, key order or escapes', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'k-same-data' };
    const first = await call('POST', '/v1/repositories', key, '{"name":"web"}', headers);
    expect(first.status, first.text).toBe(201);
    for (const body of ['{ "name": "web" }\n', '{"name":"\\u0077eb"}', '{"name":"api","name":"web"}']) {
      const again = await call('POST', '/v1/repositories', key, body, headers);
      expect(again.status, body).toBe(201);
      expect(again.headers.get('idempotent-replayed'), body).toBe('true');
      expect(again.text).toBe(first.text);
    }
    const app = sampleApp('web');
    const appHeaders = { 'idempotency-key': 'k-key-order' };
    expect((await call('POST', '/v1/apps', key, app, appHeaders)).status).toBe(201);
    const reordered = Object.fromEntries(Object.entries(app).reverse());
    const replayed = await call('POST', '/v1/apps', key, reordered, appHeaders);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    // Other data is another request still.
    const other = await call('POST', '/v1/apps', key, { ...reordered, replicas: 2 }, appHeaders);
    expect(other).toMatchObject({ status: 422, json: { code: 'idempotency.mismatch' } });
    // No body and `{}` ask a route that takes no fields alike.
    const keyHeaders = { 'idempotency-key': 'k-no-fields' };
    const made = await call('POST', '/v1/keys', key, undefined, keyHeaders);
    expect(made.status, made.text).toBe(201);
    const again = await call('POST', '/v1/keys', key, {}, keyHeaders);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(made.text);
    // JSON nested too deep to be written again in order is weighed by its text: refused as any such body.
    const deep = `{"name":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const deepHeaders = { 'idempotency-key': 'k-deep' };
    expect(await call('POST', '/v1/repositories', key, deep, deepHeaders)).toMatchObject({
      status: 400,
      json: { code: 'validation.failed' },
    });
    expect((await call('POST', '/v1/repositories', key, { name: 'api' }, deepHeaders)).status).toBe(201);
  });

  it('answers 422 when the key comes back with another query string, rather than replaying the first answer', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'k-query' };
    expect((await call('POST', '/v1/apps', key, sampleApp('web'), headers)).status).toBe(201);
    expect(await call('POST', '/v1/apps?dryRun=true', key, sampleApp('web'), headers)).toMatchObject({
      status: 422,
      json: { code: 'idempotency.mismatch' },
    });
    // Without the key, the parameter is refused as one the route does not take.
    expect(await call('POST', '/v1/apps?dryRun=true', key, sampleApp('api'))).toMatchObject({
      status: 400,
      json: { code: 'validation.failed', errors: [{ path: 'dryRun' }] },
    });
  });

  it('keeps no answer of a request that failed validation or was not JSON: the same key runs the corrected request', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'k-invalid' };
    const notJson = await call('POST', '/v1/apps', key, sampleApp('web'), {
      ...headers,
      'content-type': 'text/plain',
    });
    expect(notJson).toMatchObject({ status: 415, json: { code: 'media.unsupported' } });
    const invalid = await call('POST', '/v1/apps', key, { ...sampleApp('web'), memory: 3 }, headers);
    expect(invalid).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    const corrected = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(corrected.status, corrected.text).toBe(201);
    expect(corrected.headers.get('idempotent-replayed')).toBeNull();
    const again = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('keeps no answer of a request whose If-Match named a version gone: the same key runs it with the ETag read again', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const created = await call('POST', '/v1/apps', key, sampleApp('web'));
    const stale = `${created.headers.get('etag')}`;
    expect(
      (await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } }, { 'if-match': stale })).status,
    ).toBe(200);
    /** Two replicas, under the Idempotency-Key k-stale, if the app is at the version `etag` names. */
    const scale = (etag: string) =>
      call(
        'POST',
        '/v1/apps/web/scale',
        key,
        { replicas: 2 },
        { 'idempotency-key': 'k-stale', 'if-match': etag },
      );
    expect(await scale(stale)).toMatchObject({ status: 412, json: { code: 'precondition.failed' } });
    const scaled = await scale(`${(await call('GET', '/v1/apps/web', key)).headers.get('etag')}`);
    expect(scaled, scaled.text).toMatchObject({ status: 200, json: { replicas: 2 } });
    expect(scaled.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keeps no answer of a POST to a path no route takes: the same key runs the request sent to the right one', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const headers = { 'idempotency-key': 'k-typo' };
    const typo = await call('POST', '/v1/app', key, sampleApp('web'), headers);
    expect(typo).toMatchObject({ status: 404, json: { code: 'route.notFound' } });
    const sent = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(sent.status, sent.text).toBe(201);
  });

  it('answers 409 while the first request is still running', async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    const original = deps.store.createApp.bind(deps.store);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    deps.store.createApp = async (write) => {
      await gate;
      return original(write);
    };
    const headers = { 'idempotency-key': 'slow' };
    const first = call('POST', '/v1/apps', key, sampleApp('web'), headers);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const concurrent = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(concurrent).toMatchObject({ status: 409, json: { code: 'idempotency.conflict' } });
    // As for a dependency that is down: when to send it again, which a client's retry may go by.
    expect(concurrent.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(201);
  });

  it('keeps no answer of a request that failed inside: the same key runs it again once the failure has passed', async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    const createApp = deps.store.createApp.bind(deps.store);
    const failures = [new UnavailableError('the database is unavailable; retry shortly'), new Error('a bug')];
    deps.store.createApp = async (...args) => {
      const failure = failures.shift();
      if (failure) throw failure;
      return createApp(...args);
    };
    deps.logger.error = () => {};
    const headers = { 'idempotency-key': 'after-a-failure' };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call('POST', '/v1/apps', key, sampleApp('web'), headers));
    expect(answers.map((a) => [a.status, a.headers.get('idempotent-replayed')])).toEqual([
      [503, null],
      [500, null],
      [201, null],
      [201, 'true'],
    ]);
    expect((await call('GET', '/v1/apps/web/deployments', key)).json.items).toHaveLength(1);
  });

  it("answers a request's own answer when the table cannot keep it, rather than a 5xx that would have it sent again", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    deps.store.completeIdempotencyKey = async () => {
      throw new Error('the table failed');
    };
    const logged: unknown[] = [];
    deps.logger.error = (message) => logged.push(message);
    const headers = { 'idempotency-key': 'unkept' };
    const created = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(created).toMatchObject({ status: 201, json: { name: 'web' } });
    expect(logged).toEqual(['could not keep the answer of an Idempotency-Key']);
    // The key stays claimed, as while a request runs, until its lock runs out: nothing is run twice meanwhile.
    const again = await call('POST', '/v1/apps', key, sampleApp('web'), headers);
    expect(again).toMatchObject({ status: 409, json: { code: 'idempotency.conflict' } });
  });

  it('scopes keys per tenant', async () => {
    const { call, createTenant } = await localApi();
    const a = (await createTenant('tenant-a')).key;
    const b = (await createTenant('tenant-b')).key;
    const headers = { 'idempotency-key': 'same-key' };
    expect((await call('POST', '/v1/apps', a, sampleApp('web'), headers)).status).toBe(201);
    const res = await call('POST', '/v1/apps', b, sampleApp('web'), headers);
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('rejects keys empty or longer than 255 characters, and takes one of 255', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    for (const idempotencyKey of ['', 'k'.repeat(256)]) {
      const res = await call('POST', '/v1/apps', key, sampleApp('web'), {
        'idempotency-key': idempotencyKey,
      });
      expect(res).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    }
    const longest = { 'idempotency-key': 'k'.repeat(255) };
    expect((await call('POST', '/v1/apps', key, sampleApp('web'), longest)).status).toBe(201);
    const again = await call('POST', '/v1/apps', key, sampleApp('web'), longest);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});
