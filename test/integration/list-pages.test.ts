import fc from 'fast-check';
import { expect, it } from 'vitest';
import { localApi, sampleApp } from '../support/local-api.ts';

type Api = Awaited<ReturnType<typeof localApi>>;

/** Every item of `path`, page by page with `limits` in turn: each page within its limit, the last alone uncursored. */
async function pageThrough(api: Api, path: string, key: string, limits: number[]) {
  const items: unknown[] = [];
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const limit = limits[page % limits.length] ?? 1;
    const query = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await api.call('GET', `${path}${path.includes('?') ? '&' : '?'}${query}`, key);
    expect(res.status, res.text).toBe(200);
    const { items: got, nextCursor } = res.json as { items: unknown[]; nextCursor: string | null };
    expect(got.length).toBeLessThanOrEqual(limit);
    items.push(...got);
    if (nextCursor === null) return items;
    cursor = nextCursor;
  }
}

const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);

it('pages every list to the same items as one page holds, in order, each once, whatever the page sizes', async () => {
  const api = await localApi();
  await api.createPlan('many', { apps: 100, instancesPerApp: 3, vcpu: 100, memoryMiB: 204_800 });
  let tenants = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(dnsLabel, { maxLength: 12 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 6 }),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      async (names, deploys, keys, limits) => {
        const tenant = `t${tenants++}`;
        const key = (await api.createTenant(tenant, 'many')).key;
        for (const name of names) {
          expect((await api.call('POST', '/v1/apps', key, sampleApp(name))).status).toBe(201);
        }
        const [first] = names;
        for (let i = 0; first && i < deploys; i++) {
          const deployed = await api.call('POST', `/v1/apps/${first}/deployments`, key, {
            env: { N: String(i) },
          });
          expect(deployed.status).toBe(202);
        }
        for (let i = 0; i < keys; i++) {
          expect((await api.call('POST', '/v1/keys', key, { name: `k${i}` })).status).toBe(201);
        }
        const lists = [
          '/v1/apps',
          '/v1/keys',
          '/v1/repositories',
          ...(first ? ['deployments', 'revisions', 'events'].map((what) => `/v1/apps/${first}/${what}`) : []),
        ];
        const adminLists = ['/v1/tenants', '/v1/plans', `/v1/tenants/${tenant}/keys`];
        for (const [path, caller] of [
          ...lists.map((path) => [path, key] as const),
          ...adminLists.map((path) => [path, api.adminKey] as const),
        ]) {
          const whole = await pageThrough(api, path, caller, [100]);
          expect(await pageThrough(api, path, caller, limits), path).toEqual(whole);
          expect(new Set(whole.map((item) => JSON.stringify(item))).size).toBe(whole.length);
        }
        const apps = (await pageThrough(api, '/v1/apps', key, limits)) as { name: string }[];
        expect(apps.map((app) => app.name)).toEqual([...names].sort());
      },
    ),
    { numRuns: 25 },
  );
}, 300_000);
