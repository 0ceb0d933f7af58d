import { describe, expect, it } from 'vitest';
import { rollBackFailed } from '../../functions/core/deployments.ts';
import type { AppRecord, DeploymentRecord } from '../../functions/core/ports.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe('plan limits and optimistic concurrency on DynamoDB Local', () => {
  it('lets exactly as many parallel creates through as the plan has room for', async () => {
    const { call, createTenant, createPlan } = await localApi();
    await createPlan('tiny', { apps: 2, instancesPerApp: 1, vcpu: 4, memoryMiB: 8192 });
    const key = (await createTenant('acme', 'tiny')).key;
    await call('POST', '/v1/apps', key, sampleApp('first'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call('POST', '/v1/apps', key, sampleApp(`app-${i}`))),
    );
    const statuses = results.map((r) => r.status);
    expect(count(statuses, 201)).toBe(1);
    expect(count(statuses, 403)).toBe(9);
    expect(results.filter((r) => r.status === 403).every((r) => r.json.code === 'quota.exceeded')).toBe(true);
    const tenant = await call('GET', '/v1/tenant', key);
    expect(tenant.json.usage).toMatchObject({ apps: { used: 2, limit: 2 } });
    expect((await call('GET', '/v1/apps', key)).json.items).toHaveLength(2);
  });

  it('says an app being deleted still counts, when it holds the place a create is refused for', async () => {
    const { call, createTenant, createPlan } = await localApi();
    await createPlan('tiny', { apps: 1, instancesPerApp: 1, vcpu: 4, memoryMiB: 8192 });
    const key = (await createTenant('acme', 'tiny')).key;
    await call('POST', '/v1/apps', key, sampleApp('first'));
    expect((await call('DELETE', '/v1/apps/first', key)).status).toBe(202);
    expect(await call('POST', '/v1/apps', key, sampleApp('second'))).toMatchObject({
      status: 403,
      json: {
        code: 'quota.exceeded',
        detail:
          'plan "tiny" allows one app, and one exists (an app being deleted counts until its replicas are gone); ' +
          'delete an app or move to a larger plan',
      },
    });
  });

  it('keeps parallel scale-ups within the vCPU limit', async () => {
    const { call, createTenant, createPlan } = await localApi();
    await createPlan('small', { apps: 10, instancesPerApp: 10, vcpu: 2, memoryMiB: 65536 });
    const key = (await createTenant('acme', 'small')).key;
    // Five apps at 0.25 vCPU: 1.25 vCPU reserved, room for 3 more replicas.
    for (let i = 0; i < 5; i++) await call('POST', '/v1/apps', key, sampleApp(`app-${i}`));
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => call('POST', `/v1/apps/app-${i}/scale`, key, { replicas: 2 })),
    );
    expect(
      count(
        results.map((r) => r.status),
        200,
      ),
    ).toBe(3);
    expect(
      count(
        results.map((r) => r.status),
        403,
      ),
    ).toBe(2);
    const tenant = await call('GET', '/v1/tenant', key);
    expect(tenant.json.usage).toMatchObject({ vcpu: { used: 2, limit: 2 }, memoryMiB: { used: 4096 } });
    // Each scale's event is written with it: one for each scale that landed, none for one refused.
    const scaled = await Promise.all(
      results.map(async (_, i) => {
        const { items } = (await call('GET', `/v1/apps/app-${i}/events`, key)).json;
        return (items as { type: string; message: string }[]).filter((e) => e.type === 'scaled');
      }),
    );
    expect(scaled.map((events) => events.length)).toEqual(results.map((r) => (r.status === 200 ? 1 : 0)));
    expect(scaled.flat().map((e) => e.message)).toEqual(Array(3).fill('scaled from 1 to 2 replicas'));
  });

  it('holds a tenant over a lowered plan only to the limits a change adds to, in the check and in the table', async () => {
    const { call, createTenant, createPlan, adminKey } = await localApi();
    await createPlan('shrinking', { apps: 3, instancesPerApp: 4, vcpu: 4, memoryMiB: 8192 });
    const key = (await createTenant('acme', 'shrinking')).key;
    await call('POST', '/v1/apps', key, sampleApp('a'));
    await call('POST', '/v1/apps', key, sampleApp('b'));
    const lower = async (limits: Record<string, number>) =>
      expect((await call('PATCH', '/v1/plans/shrinking', adminKey, { limits })).status).toBe(200);
    const statusOf = async (method: string, path: string, body?: unknown) =>
      (await call(method, path, key, body)).status;

    // Two apps on a plan now of one: changing them adds no app.
    await lower({ apps: 1 });
    expect(await statusOf('PATCH', '/v1/apps/a', { cpu: 0.5, memory: 1024 })).toBe(200);
    expect(await statusOf('POST', '/v1/apps', sampleApp('c'))).toBe(403);
    // 0.75 vCPU reserved, 0.5 allowed: more memory adds no vCPU, one replica fewer takes some back.
    await lower({ apps: 3, vcpu: 0.5 });
    expect(await statusOf('PATCH', '/v1/apps/b', { memory: 1024 })).toBe(200);
    expect(await statusOf('PATCH', '/v1/apps/b', { cpu: 0.5 })).toBe(403);
    // 2048 MiB reserved, 1024 allowed: more vCPU adds no memory.
    await lower({ vcpu: 4, memoryMiB: 1024 });
    expect(await statusOf('PATCH', '/v1/apps/b', { cpu: 0.5 })).toBe(200);
    expect(await statusOf('POST', '/v1/apps/b/scale', { replicas: 2 })).toBe(403);
    expect(await statusOf('POST', '/v1/apps/a/scale', { replicas: 0 })).toBe(200);
    const tenant = await call('GET', '/v1/tenant', key);
    expect(tenant.json.usage).toMatchObject({
      apps: { used: 2, limit: 3 },
      vcpu: { used: 0.5, limit: 4 },
      memoryMiB: { used: 1024, limit: 1024 },
    });
    // Three replicas of an app on a plan now of one per app: a change that keeps them passes, and so does one fewer.
    await lower({ instancesPerApp: 4, memoryMiB: 8192 });
    expect(await statusOf('POST', '/v1/apps/b/scale', { replicas: 3 })).toBe(200);
    await lower({ instancesPerApp: 1 });
    expect(await statusOf('PATCH', '/v1/apps/b', { env: { A: '1' } })).toBe(200);
    expect(await statusOf('POST', '/v1/apps/b/scale', { replicas: 2 })).toBe(200);
    expect(await statusOf('POST', '/v1/apps/b/scale', { replicas: 3 })).toBe(403);
  });

  it("lets only the platform's rollback of a failed deployment past the plan, as the revision it restores runs still", async () => {
    const { call, createTenant, createPlan, deps } = await localApi();
    await createPlan('one', { apps: 3, instancesPerApp: 2, vcpu: 1, memoryMiB: 8192 });
    const key = (await createTenant('acme', 'one')).key;
    await call('POST', '/v1/apps', key, sampleApp('web', { cpu: 0.5, memory: 1024 }));
    const created = (await deps.store.getApp('acme', 'web')) as AppRecord;
    await deps.store.writeRollout({
      app: { record: { ...created, currentRevision: 1 }, read: created },
    });
    // Revision 2, half the size, fails; its room is taken meanwhile.
    const attempt = await call('POST', '/v1/apps/web/deployments', key, { cpu: 0.25, memory: 512 });
    const failed = (await deps.store.getDeployment(
      'acme',
      created.uid,
      String(attempt.json.id),
    )) as DeploymentRecord;
    await call('POST', '/v1/apps', key, sampleApp('api', { cpu: 0.5, memory: 1024 }));
    await call('POST', '/v1/apps', key, sampleApp('job'));
    expect((await call('POST', '/v1/apps/job/scale', key, { replicas: 2 })).json.code).toBe('quota.exceeded');

    const app = (await deps.store.getApp('acme', 'web')) as AppRecord;
    const failing = { record: { ...failed, status: 'failed' as const }, read: failed };
    expect(await rollBackFailed(deps, app, failing)).toMatchObject({ revision: 1 });
    const tenant = await call('GET', '/v1/tenant', key);
    expect(tenant.json.usage).toMatchObject({ vcpu: { used: 1.25, limit: 1 } });
    expect((await call('POST', '/v1/apps/job/scale', key, { replicas: 2 })).json.code).toBe('quota.exceeded');
  });

  it('answers 50 parallel PATCHes with one If-Match with exactly one 200 and 49 × 412', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const etag = (await call('GET', '/v1/apps/web', key)).headers.get('etag') ?? '';
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call('PATCH', '/v1/apps/web', key, { env: { ATTEMPT: String(i) } }, { 'if-match': etag }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(count(statuses, 200)).toBe(1);
    expect(count(statuses, 412)).toBe(49);
    expect(results.filter((r) => r.status === 412).every((r) => r.json.code === 'precondition.failed')).toBe(
      true,
    );
    expect((await call('GET', '/v1/apps/web', key)).json).toMatchObject({ version: 2, latestRevision: 2 });
    const { items } = (await call('GET', '/v1/apps/web/events', key)).json;
    expect(
      (items as { message: string }[]).map((e) => e.message).filter((m) => m.startsWith('deploying')),
    ).toEqual(['deploying revision 2 (update)', 'deploying revision 1 (create)']);
  });

  it('keeps the ETag of an app, tenant or plan through a PATCH that changes nothing', async () => {
    const { call, adminKey, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    expect((await call('POST', '/v1/apps', key, sampleApp('web', { replicas: 2 }))).status).toBe(201);
    for (const [path, callerKey, same] of [
      ['/v1/apps/web', key, { replicas: 2, port: 8080 }],
      ['/v1/tenants/acme', adminKey, { name: 'ACME', status: 'active' }],
      ['/v1/plans/pro', adminKey, { limits: { apps: 50 } }],
    ] as const) {
      const etag = (await call('GET', path, callerKey)).headers.get('etag') ?? '';
      expect(etag, path).toMatch(/^"v\d+"$/);
      for (const body of [{}, same]) {
        const patched = await call('PATCH', path, callerKey, body, { 'if-match': etag });
        expect({ path, body, status: patched.status }).toEqual({ path, body, status: 200 });
      }
      expect((await call('GET', path, callerKey)).headers.get('etag'), path).toBe(etag);
    }
  });

  it('loses no update among parallel PATCHes without If-Match', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', key, sampleApp('web'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('PATCH', '/v1/apps/web', key, { env: { WRITER: String(i) } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const app = (await call('GET', '/v1/apps/web', key)).json;
    expect(app).toMatchObject({ version: 21, latestRevision: 21 });
    const revisions = (await call('GET', '/v1/apps/web/revisions?limit=100', key)).json.items as {
      number: number;
      env: Record<string, string>;
    }[];
    // Newest first, as deployments and events.
    expect(revisions.map((r) => r.number)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
    const writers = new Set(revisions.slice(0, -1).map((r) => r.env.WRITER));
    expect(writers.size).toBe(20);
  });

  it('pages through lists with cursors and rejects a forged cursor', async () => {
    const { call, adminKey, createTenant } = await localApi();
    for (const id of ['t-a', 't-b', 't-c', 't-d', 't-e']) await createTenant(id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await call('GET', `/v1/tenants?limit=2${query}`, adminKey);
      const page = res.json as unknown as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['t-a', 't-b', 't-c', 't-d', 't-e']);
    // A page that holds the last item says so: no cursor to a page that would be empty.
    const whole = await call('GET', '/v1/tenants?limit=5', adminKey);
    expect(whole.json).toMatchObject({ nextCursor: null });
    expect((whole.json.items as unknown[]).length).toBe(5);
    const forged = await call('GET', '/v1/tenants?cursor=bm90LWEtY3Vyc29y', adminKey);
    expect(forged).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
  });

  it("pages through every tenant's billing reports, as JSON and as CSV with a Link to the next page", async () => {
    const { call, adminKey, createTenant } = await localApi();
    for (const id of ['t-a', 't-b', 't-c']) await createTenant(id);
    const period = new Date().toISOString().slice(0, 7);
    const first = await call('GET', `/v1/billing/reports/${period}?limit=2`, adminKey);
    expect(first.status).toBe(200);
    const { reports, nextCursor } = first.json as { reports: { tenant: string }[]; nextCursor: string };
    expect(reports.map((r) => r.tenant)).toEqual(['t-a', 't-b']);
    const nextPage = `/v1/billing/reports/${period}?limit=2&cursor=${encodeURIComponent(nextCursor)}`;
    expect(first.headers.get('link')).toBe(`<${nextPage}>; rel="next"`);
    const last = await call('GET', nextPage, adminKey);
    expect(last.json).toMatchObject({ reports: [{ tenant: 't-c', status: 'draft' }], nextCursor: null });
    expect(last.headers.get('link')).toBeNull();

    const csv = await call('GET', `/v1/billing/reports/${period}?limit=2`, adminKey, undefined, {
      accept: 'text/csv',
    });
    const totals = csv.text.split('\r\n').filter((line) => line.includes(',TOTAL,'));
    expect(totals.map((line) => line.split(',')[0])).toEqual(['t-a', 't-b']);
    const link = /^<([^>]+)>; rel="next"$/.exec(csv.headers.get('link') ?? '')?.[1];
    expect(link).toBe(nextPage);
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="berth-${period}-t-a-to-t-b.csv"`,
    );
    const next = await call('GET', link ?? '', adminKey, undefined, { accept: 'text/csv' });
    expect(next.text).toContain(`t-c,${period},draft,`);
    expect(next.headers.get('content-disposition')).toBe(`attachment; filename="berth-${period}-t-c.csv"`);
    const whole = await call('GET', `/v1/billing/reports/${period}`, adminKey, undefined, {
      accept: 'text/csv',
    });
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="berth-${period}.csv"`);
    expect(next.text).not.toContain('t-a,');

    const forged = await call('GET', `/v1/billing/reports/${period}?cursor=bm90LWEtY3Vyc29y`, adminKey);
    expect(forged).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    const tooMany = await call('GET', `/v1/billing/reports/${period}?limit=101`, adminKey);
    expect(tooMany).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
  });
});
