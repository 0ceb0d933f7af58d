import { describe, expect, it } from 'vitest';
import { createApi } from '../../../functions/http/api.ts';
import { compileRoutes, QUICK_REQUESTS } from '../../../functions/http/routes/router.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { clientFor, sampleApp } from '../../support/local-api.ts';

/** The API, a tenant and its app `web`; `answers()` asks a few routes, right and wrong, and keeps what they say. */
async function setup() {
  const { deps, adminKey } = await fakeApiDeps();
  const api = createApi(deps);
  const { createTenant, call } = clientFor(api, adminKey);
  const key = (await createTenant('acme')).key;
  expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
  const answers = async () => {
    const seen = [];
    for (const [method, path] of [
      ['GET', '/v1/apps'],
      ['GET', '/v1/apps/web'],
      ['GET', '/v1/apps/web/deployments'],
      ['GET', '/v1/apps/web/revisions/1'],
      ['GET', '/v1/apps/nothing'],
      ['GET', '/v1/apps/web/nothing'],
      ['GET', '/v1/nothing'],
      ['PUT', '/v1/apps/web'],
      ['POST', '/healthz'],
      ['GET', '/healthz'],
    ] as const) {
      const res = await api.request(path, { method, headers: { authorization: `Bearer ${key}` } });
      const { requestId: _, ...body } = (await res.json()) as Record<string, unknown>;
      // The headers' names: what each middleware on the way adds (a request id's value differs every time).
      const headers = [...res.headers.keys()].sort();
      seen.push({ method, path, status: res.status, allow: res.headers.get('allow'), headers, body });
    }
    return seen;
  };
  return { api, answers };
}

describe("the API's router", () => {
  it('answers the same after it compiles its routes as before: routes, path parameters, 404s and 405s', async () => {
    const { api, answers } = await setup();
    const quick = await answers();
    expect(api.router.name).toBe('LinearRouter, then RegExpRouter');
    // Routed so far: setup's two requests (the tenant, its app) and the answers'.
    for (let routed = 2 + quick.length; routed < QUICK_REQUESTS; routed++) await api.request('/healthz');
    const compiled = await answers();
    expect(api.router.name).toBe('SmartRouter + RegExpRouter');
    expect(compiled).toEqual(quick);
    expect(quick.map(({ status }) => status)).toEqual([200, 200, 200, 200, 404, 404, 404, 405, 405, 200]);
  });

  it('answers a path with a trailing slash 404 from the first request on, as once compiled', async () => {
    // LinearRouter alone took "/v1/keys/" as "/v1/keys" until the routes compiled, then 404: an answer that changed
    // after a process's hundredth request, and a POST that the Idempotency-Key did not guard (no route takes its path).
    const { deps, adminKey } = await fakeApiDeps();
    const api = createApi(deps);
    const { createTenant, call } = clientFor(api, adminKey);
    const key = (await createTenant('acme')).key;
    const keys = async () => ((await call('GET', '/v1/keys', key)).json.items as unknown[]).length;
    const before = await keys();
    for (const [method, path] of [
      ['GET', '/v1/apps/'],
      ['GET', '/v1/keys/'],
      ['GET', '/healthz/'],
      ['POST', '/v1/keys/'],
      ['POST', '/v1/keys/'],
    ] as const) {
      const res = await call(method, path, key, undefined, { 'idempotency-key': 'once' });
      expect([path, res.status, res.json.code]).toEqual([path, 404, 'route.notFound']);
    }
    expect(await keys()).toBe(before);
    expect((await call('GET', '/v1/keys', key)).status).toBe(200);
  });

  it('compiles its routes at once when asked, as the API Lambda warming up ahead of traffic does', async () => {
    const { api, answers } = await setup();
    const quick = await answers();
    compileRoutes(api);
    expect(api.router.name).toBe('SmartRouter + RegExpRouter');
    expect(await answers()).toEqual(quick);
  });
});
