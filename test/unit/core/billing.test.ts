import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { buildReport, listReports } from '../../../functions/core/billing.ts';
import { billedTotals, costMicroUsd, dollars } from '../../../functions/core/billing-math.ts';
import { accrual } from '../../../functions/core/metering.ts';
import { PAGE_JSON_BYTES } from '../../../functions/core/page-bytes.ts';
import { createPlan } from '../../../functions/core/plans.ts';
import type { LifetimeRecord } from '../../../functions/core/ports.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { getUsage } from '../../../functions/core/usage.ts';
import { listEveryUsage } from '../../../functions/core/walk.ts';
import { createApi } from '../../../functions/http/api.ts';
import { meterUsage } from '../../../functions/jobs/meter.ts';
import { buildMonthlyReports } from '../../../functions/jobs/report.ts';
import { DEFAULT_PRICE_TABLE } from '../../../schemas/billing.ts';
import { fakeApiDeps, fakeCoreDeps, ManualClock } from '../../fakes/core-deps.ts';
import { ListedReplicas, replica } from '../../fakes/fake-runtime.ts';
import { billedBy } from '../../support/metering-model.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';
import { usageRow } from '../../support/usage-row.ts';

const lifetime = (startedSec: number, stoppedSec: number | null = null): LifetimeRecord => ({
  tenantId: 'acme',
  instanceId: 'i1',
  app: 'web',
  cpu: 0.5,
  memoryMiB: 1024,
  startedSec,
  stoppedSec,
  meteredSec: startedSec,
});
const at = (iso: string) => Date.parse(iso) / 1000;

describe('billing math', () => {
  it('prices exactly: list prices per vCPU-hour and GB-hour, rounded once', () => {
    const hour = { vcpuMilliSeconds: 1000 * 3600, memoryMiBSeconds: 0, instanceSeconds: 3600 };
    expect(costMicroUsd(hour, DEFAULT_PRICE_TABLE)).toBe(40_480);
    expect(
      costMicroUsd({ ...hour, vcpuMilliSeconds: 0, memoryMiBSeconds: 1024 * 3600 }, DEFAULT_PRICE_TABLE),
    ).toBe(4_445);
    // 0.25 vCPU + 512 MiB for one second = 3.4285… µ$ → 3; for 3600 s exactly 10120 + 2222.5 → 12343 (half up)
    expect(
      costMicroUsd({ vcpuMilliSeconds: 250, memoryMiBSeconds: 512, instanceSeconds: 1 }, DEFAULT_PRICE_TABLE),
    ).toBe(3);
    expect(
      costMicroUsd(
        { vcpuMilliSeconds: 250 * 3600, memoryMiBSeconds: 512 * 3600, instanceSeconds: 3600 },
        DEFAULT_PRICE_TABLE,
      ),
    ).toBe(12_343);
    expect(dollars(12_343)).toBe('0.012343');
    expect(dollars(1_234_567_890)).toBe('1234.567890');
  });

  it('splits a lifetime at hour boundaries and adds a short one’s shortfall only when it closes', () => {
    const start = at('2026-11-22T10:59:30Z');
    const rows = accrual(lifetime(start), start, start + 45, false);
    expect(rows.map((r) => [r.hour, r.instanceSeconds, r.vcpuMilliSeconds, r.memoryMiBSeconds])).toEqual([
      ['2026-11-22T10', 30, 15_000, 30_720],
      ['2026-11-22T11', 15, 7_500, 15_360],
    ]);
    expect(rows.every((r) => r.shortfallInstanceSeconds === 0)).toBe(true);
    const closed = accrual(lifetime(start, start + 45), start + 45, start + 45, true);
    expect(closed).toEqual([
      expect.objectContaining({
        hour: '2026-11-22T10',
        instanceSeconds: 0,
        shortfallInstanceSeconds: 15,
        shortfallVcpuMilliSeconds: 7_500,
      }),
    ]);
    expect(
      accrual(lifetime(start, start + 61), start, start + 61, true).every(
        (r) => r.shortfallInstanceSeconds === 0,
      ),
    ).toBe(true);
  });

  it('bills the shortfall only with the 1-minute-minimum option', () => {
    const start = at('2026-11-22T10:00:00Z');
    const short = accrual(lifetime(start, start + 20), start, start + 20, true);
    const long = accrual({ ...lifetime(start, start + 600), instanceId: 'i2' }, start, start + 600, true);
    const plain = billedTotals([...short, ...long], DEFAULT_PRICE_TABLE);
    const minimum = billedTotals([...short, ...long], {
      ...DEFAULT_PRICE_TABLE,
      minimumSecondsPerInstance: 60,
    });
    expect(plain.instanceSeconds).toBe(620);
    expect(minimum.instanceSeconds).toBe(660);
    expect(minimum.vcpuMilliSeconds - plain.vcpuMilliSeconds).toBe(500 * 40);
  });
});

describe('meter and report jobs (fakes)', () => {
  let deps: Awaited<ReturnType<typeof fakeApiDeps>>['deps'];
  let adminKey: string;
  const runtime = new ListedReplicas();

  beforeEach(async () => {
    ({ deps, adminKey } = await fakeApiDeps());
    deps.clock.current = new Date('2026-10-31T23:00:00Z');
    runtime.replicas = [];
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  });

  const meter = () => meterUsage({ ...deps, runtime });
  const total = async () =>
    (await listEveryUsage(deps.store, 'acme', '2026-10-01T00', '2026-12-31T23')).reduce(
      (n, u) => n + u.instanceSeconds,
      0,
    );

  it('counts every second once: duplicated, concurrent and skipped runs, across a month boundary', async () => {
    const a = replica('acme', 'web', '2026-10-31T23:00:00.000Z');
    const b = replica('acme', 'api', '2026-10-31T23:30:10.900Z', { cpu: 1, memoryMiB: 2048 });
    runtime.replicas = [a, b];
    await meter();
    await Promise.all([meter(), meter()]);
    deps.clock.advance(3600_000); // 2026-11-01T00:00:00
    await Promise.all([meter(), meter(), meter()]);
    deps.clock.advance(1800_000); // two ticks skipped
    runtime.replicas = [{ ...a, state: 'exited', stoppedAt: '2026-11-01T00:20:00.500Z' }, b];
    await meter();
    runtime.replicas = [b]; // a is removed; b keeps running
    deps.clock.advance(600_000);
    await Promise.all([meter(), meter()]);
    // a: 23:00:00 → 00:20:00 = 4800 s; b: 23:30:10 → 00:40:00 = 4190 s
    expect(await total()).toBe(4800 + 4190);

    await buildMonthlyReports(deps, { period: '2026-10' });
    const api = createApi(deps);
    const res = await api.request('/v1/billing/reports/2026-10', {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const { reports } = (await res.json()) as {
      reports: {
        tenant: string;
        status: string;
        lineItems: { app: string; instanceSeconds: number; costMicroUsd: number }[];
        total: { costMicroUsd: number };
      }[];
    };
    const october = reports.find((r) => r.tenant === 'acme');
    // Built within the hour after the month: a draft, which late usage may still change.
    expect(october?.status).toBe('draft');
    expect(october?.lineItems.map((i) => [i.app, i.instanceSeconds])).toEqual([
      ['api', 1790],
      ['web', 3600],
    ]);
    const expected = [
      costMicroUsd(
        { vcpuMilliSeconds: 1000 * 1790, memoryMiBSeconds: 2048 * 1790, instanceSeconds: 1790 },
        DEFAULT_PRICE_TABLE,
      ),
      costMicroUsd(
        { vcpuMilliSeconds: 250 * 3600, memoryMiBSeconds: 512 * 3600, instanceSeconds: 3600 },
        DEFAULT_PRICE_TABLE,
      ),
    ];
    expect(october?.lineItems.map((i) => i.costMicroUsd)).toEqual(expected);
    const sum = expected.reduce((n, c) => n + c, 0);
    expect(october?.total.costMicroUsd).toBe(sum);

    const csv = await (
      await api.request('/v1/billing/reports/2026-10', {
        headers: { authorization: `Bearer ${adminKey}`, accept: 'text/csv' },
      })
    ).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'tenant,period,status,price_table,app,vcpu_seconds,memory_gib_seconds,instance_seconds,cost_micro_usd,cost_usd',
    );
    const acmeTotal = lines.find((l) => l.startsWith('acme,') && l.includes(',TOTAL,'));
    expect(acmeTotal?.split(',').at(-2)).toBe(String(sum));
    expect(acmeTotal?.split(',').at(-1)).toBe(dollars(sum));
  });

  it('waits out a runtime listing that lags, and closes a vanished replica where it was last seen', async () => {
    const a = replica('acme', 'web', '2026-10-31T23:00:00.000Z');
    runtime.replicas = [a];
    await meter();
    deps.clock.advance(60_000);
    await meter(); // seen until 23:01
    runtime.replicas = [];
    deps.clock.advance(600_000);
    await meter(); // absent 10 min: not closed, nothing added
    expect(await total()).toBe(60);
    runtime.replicas = [a];
    deps.clock.advance(60_000);
    await meter(); // back: the gap is counted, it was running all along
    expect(await total()).toBe(720);
    runtime.replicas = [];
    deps.clock.advance(16 * 60_000);
    await meter(); // gone for good, with no stop recorded: ends where last seen
    deps.clock.advance(60_000);
    await meter();
    expect(await total()).toBe(720);
    expect(await deps.meter.listOpenLifetimes('acme')).toEqual([]);
  });

  it('bills each month by the price table in force as it began: one deployed later applies from the next', async () => {
    const doubled = {
      ...DEFAULT_PRICE_TABLE,
      version: 'doubled',
      vcpuHourMicroUsd: 2 * DEFAULT_PRICE_TABLE.vcpuHourMicroUsd,
    };
    runtime.replicas = [replica('acme', 'web', '2026-10-31T23:00:00.000Z')];
    await meter();
    deps.clock.current = new Date('2026-11-01T00:00:30Z');
    await meter();
    // A table with twice the vCPU price is deployed on 1 November at 09:00, before October's report is built.
    deps.clock.current = new Date('2026-11-01T09:00:00Z');
    const deployed = { ...deps, prices: doubled };
    await meterUsage({ ...deployed, runtime });
    await buildMonthlyReports(deployed);
    expect((await deps.meter.getReport('acme', '2026-10'))?.priceTable).toEqual(DEFAULT_PRICE_TABLE);
    expect((await buildReport(deployed, 'acme', '2026-11', 'draft')).priceTable).toEqual(DEFAULT_PRICE_TABLE);
    // December's first run keeps the deployed table for December.
    deps.clock.current = new Date('2026-12-01T00:00:30Z');
    await meterUsage({ ...deployed, runtime });
    expect((await buildReport(deployed, 'acme', '2026-12', 'draft')).priceTable).toEqual(doubled);
    // Usage rows across the months' end: each priced by its month's table.
    const range = {
      from: '2026-11-30T23:00:00Z',
      to: '2026-12-01T01:00:00Z',
      granularity: 'hour',
      limit: 10,
    } as const;
    const rows = (await getUsage(deployed, 'acme', range)).rows;
    const costBy = (row: (typeof rows)[number], prices: typeof doubled) =>
      dollars(
        costMicroUsd(
          {
            vcpuMilliSeconds: row.vcpuSeconds * 1000,
            memoryMiBSeconds: row.memoryGiBSeconds * 1024,
            instanceSeconds: row.instanceSeconds,
          },
          prices,
        ),
      );
    const [november, december] = rows;
    expect(rows.map((row) => [row.start, row.instanceSeconds, row.cost])).toEqual([
      ['2026-11-30T23:00:00.000Z', 3600, november && costBy(november, DEFAULT_PRICE_TABLE)],
      ['2026-12-01T00:00:00.000Z', 30, december && costBy(december, doubled)],
    ]);
    expect(november && costBy(november, doubled)).not.toBe(november?.cost);
  });

  it('leaves out of the usage rows and the report what bills nothing: replicas that lived 0 s, but with the minimum', async () => {
    const a = replica('acme', 'web', '2026-10-31T23:00:00.000Z');
    const b = replica('acme', 'api', '2026-10-31T23:10:00.200Z');
    runtime.replicas = [
      { ...a, state: 'exited', stoppedAt: '2026-10-31T23:00:30.000Z' },
      { ...b, state: 'exited', stoppedAt: '2026-10-31T23:10:00.900Z' }, // the same second: 0 s
    ];
    await meter();
    const range = { from: '2026-10-31', to: '2026-11-01', limit: 100 };
    const apps = async (prices = DEFAULT_PRICE_TABLE) => ({
      usage: (await getUsage(billedBy(deps, prices), 'acme', { ...range, granularity: 'hour' })).rows.map(
        (r) => [r.app, r.instanceSeconds, r.cost],
      ),
      report: (await buildReport(billedBy(deps, prices), 'acme', '2026-10', 'draft')).lineItems.map((i) => [
        i.app,
        i.instanceSeconds,
      ]),
    });
    expect(await apps()).toEqual({ usage: [['web', 30, '0.000103']], report: [['web', 30]] });
    // With the minimum, each bills a minute: the api's row shows the 0 s it lived, and the minute's cost.
    expect(await apps({ ...DEFAULT_PRICE_TABLE, minimumSecondsPerInstance: 60 })).toEqual({
      usage: [
        ['api', 0, '0.000206'],
        ['web', 30, '0.000206'],
      ],
      report: [
        ['api', 60],
        ['web', 60],
      ],
    });
  });

  it('never reopens a closed lifetime when its replica is seen again', async () => {
    const a = replica('acme', 'web', '2026-10-31T23:00:00.000Z');
    runtime.replicas = [{ ...a, state: 'exited', stoppedAt: '2026-10-31T23:00:30.000Z' }];
    await meter();
    await meter();
    deps.clock.advance(60_000);
    await meter();
    expect(await total()).toBe(30);
    const rows = await listEveryUsage(deps.store, 'acme', '2026-10-31T23', '2026-10-31T23');
    expect(rows[0]?.shortfallInstanceSeconds).toBe(30);
  });
});

describe('monthly usage caps (fakes)', () => {
  it('warns at 80 %, refuses scale-outs at 100 % and lets running apps run', async () => {
    const { deps, adminKey } = await fakeApiDeps();
    deps.clock.current = new Date('2026-11-10T10:00:00Z');
    const api = createApi(deps);
    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      api.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
    await post(
      '/v1/plans',
      {
        id: 'capped',
        name: 'Capped',
        limits: { apps: 5, instancesPerApp: 5, vcpu: 4, memoryMiB: 8192, maxMonthlyInstanceHours: 1 },
      },
      admin,
    );
    const created = (await (
      await post('/v1/tenants', { id: 'acme', name: 'Acme', plan: 'capped' }, admin)
    ).json()) as {
      apiKey: { key: string };
    };
    const tenant = { authorization: `Bearer ${created.apiKey.key}`, 'content-type': 'application/json' };
    const app = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    expect((await post('/v1/apps', app, tenant)).status).toBe(201);
    const events = async () =>
      (
        (await (await api.request('/v1/apps/web/events', { headers: tenant })).json()) as {
          items: { type: string }[];
        }
      ).items.map((e) => e.type);

    const runtime = new ListedReplicas();
    runtime.replicas = [replica('acme', 'web', '2026-11-10T10:00:00.000Z')];
    const meter = () => meterUsage({ ...deps, runtime });
    deps.clock.advance(47 * 60_000);
    await meter();
    expect(await events()).not.toContain('usageWarning');
    deps.clock.advance(60_000); // 48 min = 80 % of 1 h
    await meter();
    await meter();
    expect((await events()).filter((t) => t === 'usageWarning')).toHaveLength(1);
    expect((await post('/v1/apps/web/scale', { replicas: 2 }, tenant)).status).toBe(200);

    deps.clock.advance(12 * 60_000);
    await meter();
    expect((await events()).filter((t) => t === 'usageCapReached')).toHaveLength(1);
    const refused = await post('/v1/apps/web/scale', { replicas: 3 }, tenant);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('quota.exceeded');
    expect((await post('/v1/apps/web/scale', { replicas: 1 }, tenant)).status).toBe(200); // scaling in is fine
    const overview = (await (await api.request('/v1/tenant', { headers: tenant })).json()) as {
      usage: { monthlyCap: { level: string; instanceHours: number } };
    };
    expect(overview.usage.monthlyCap).toMatchObject({ level: 'exceeded', instanceHours: 1 });

    deps.clock.current = new Date('2026-12-01T00:00:30Z'); // a new month starts clean
    runtime.replicas = [];
    await meter();
    expect((await post('/v1/apps/web/scale', { replicas: 2 }, tenant)).status).toBe(200);
  });
});

describe('monthly usage caps with meters that overlap (fakes)', () => {
  it("never takes the state back for a meter whose usage is older than another's accrual: one warning", async () => {
    const deps = await fakeCoreDeps();
    deps.clock.current = new Date('2026-11-10T10:00:00Z');
    const limits = { apps: 5, instancesPerApp: 5, vcpu: 4, memoryMiB: 8192, maxMonthlyInstanceHours: 1 };
    await createPlan(deps, { id: 'capped', name: 'Capped', limits });
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'capped' });
    await createApp(deps, 'acme', {
      name: 'web',
      image: 'registry.example.com/acme/web:1',
      cpu: 0.25,
      memory: 512,
      port: 8080,
    });
    const runtime = new ListedReplicas();
    runtime.replicas = [replica('acme', 'web', '2026-11-10T10:00:00.000Z')];
    const meterAt = (minutes: number) =>
      meterUsage({ ...deps, runtime, clock: new ManualClock(new Date(Date.UTC(2026, 10, 10, 10, minutes))) });
    const warnings = async () => {
      const uid = (await deps.store.getApp('acme', 'web'))?.uid ?? '';
      const { items } = await deps.store.listAppEvents('acme', uid, { limit: 100 });
      return items.filter((e) => e.type === 'usageWarning').length;
    };
    await meterAt(47);

    // A meter at 47 min 30 s reads the month's usage; before it goes on, one at 48 min accrues, reaches 80 % and
    // warns. The first, with usage from before that, must not take the state back to below 80 %.
    const listUsage = deps.store.listUsage.bind(deps.store);
    let overtaken = false;
    deps.store.listUsage = async (...args) => {
      const page = await listUsage(...args);
      if (!overtaken) {
        overtaken = true;
        await meterAt(48);
      }
      return page;
    };
    await meterUsage({
      ...deps,
      runtime,
      clock: new ManualClock(new Date('2026-11-10T10:47:30Z')),
    });
    expect(await warnings()).toBe(1);
    expect((await deps.store.getUsageCapState('acme'))?.level).toBe('warned');
    await meterAt(49);
    expect(await warnings()).toBe(1);
  });
});

describe('reports only for the months a tenant was there in', () => {
  it('answers report.notFound for a month before the tenant or one not begun, and lists only those there', async () => {
    const { deps, adminKey } = await fakeApiDeps();
    deps.clock.current = new Date('2026-10-20T00:00:00Z');
    const acme = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    deps.clock.current = new Date('2026-11-22T10:00:00Z');
    const late = await createTenant(deps, { id: 'late', name: 'Late', plan: 'pro' });
    const api = createApi(deps);
    const get = async (path: string, key: string) => {
      const res = await api.request(path, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    expect((await get('/v1/billing/reports/2026-10', acme.apiKey.key)).json).toMatchObject({
      status: 'draft',
    });
    expect((await get('/v1/billing/reports/2026-11', late.apiKey.key)).json).toMatchObject({
      status: 'draft',
    });
    expect(await get('/v1/billing/reports/2026-10', late.apiKey.key)).toMatchObject({
      status: 404,
      json: {
        code: 'report.notFound',
        detail: 'tenant "late" was created in 2026-11; it has no report for 2026-10',
      },
    });
    for (const key of [acme.apiKey.key, adminKey]) {
      expect(await get('/v1/billing/reports/2026-12', key)).toMatchObject({
        status: 404,
        json: { code: 'report.notFound', detail: 'there is no report for 2026-12: the month has not begun' },
      });
    }
    const listed = await get('/v1/billing/reports/2026-10', adminKey);
    expect((listed.json.reports as { tenant: string }[]).map((r) => r.tenant)).toEqual(['acme']);
  });
});

describe("the admin's list of reports", () => {
  it("reads a page of tenants' reports, eight at a time, in tenant order", async () => {
    const deps = await fakeCoreDeps();
    const now = deps.clock.current;
    deps.clock.current = new Date('2026-10-20T00:00:00.000Z');
    const ids = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const id of ids) await createTenant(deps, { id, name: id, plan: 'free' });
    deps.clock.current = now;
    const reads = overlapCounter(deps.meter.getReport.bind(deps.meter));
    deps.meter.getReport = reads.call;
    const first = await listReports(deps, '2026-10', { limit: 20 });
    expect(first.items.map((r) => r.tenant)).toEqual(ids.slice(0, 20));
    expect(reads.most).toBe(8);
    const rest = await listReports(deps, '2026-10', { limit: 20, cursor: first.nextCursor ?? undefined });
    expect(rest).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(rest.items.map((r) => r.tenant)).toEqual(ids.slice(20));
  });

  /** Five tenants of October, each with a filed report of as many line items as make 40% of a page's bytes. */
  async function tenantsWithLargeReports() {
    const deps = await fakeCoreDeps();
    const now = deps.clock.current;
    deps.clock.current = new Date('2026-10-20T00:00:00.000Z');
    const ids = ['t0', 't1', 't2', 't3', 't4'];
    for (const id of ids) await createTenant(deps, { id, name: id, plan: 'free' });
    deps.clock.current = now;
    for (const id of ids) {
      const report = await buildReport(deps, id, '2026-10', 'final');
      const line = { app: 'app-00000', ...report.total };
      const lines = Math.ceil((PAGE_JSON_BYTES * 0.4) / JSON.stringify(line).length);
      const lineItems = Array.from({ length: lines }, (_, i) => ({
        ...line,
        app: `app-${String(i).padStart(5, '0')}`,
      }));
      await deps.meter.putReport({ ...report, lineItems });
    }
    return deps;
  }

  /** Every page of October's reports, as the tenants each holds; none larger than PAGE_JSON_BYTES. */
  async function everyPage(deps: Awaited<ReturnType<typeof fakeCoreDeps>>) {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listReports(deps, '2026-10', { limit: 20, cursor });
      expect(Buffer.byteLength(JSON.stringify(page.items))).toBeLessThanOrEqual(PAGE_JSON_BYTES);
      pages.push(page.items.map((report) => report.tenant));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return pages;
  }

  it('ends a page at the last report within PAGE_JSON_BYTES, and the next goes on after it', async () => {
    const deps = await tenantsWithLargeReports();
    expect(await everyPage(deps)).toEqual([['t0', 't1'], ['t2', 't3'], ['t4']]);
  });

  it('skips and repeats no tenant when one is deleted while a page that ends early is read: it comes last, billed all the same', async () => {
    const deps = await tenantsWithLargeReports();
    const listBilledTenants = deps.store.listBilledTenants.bind(deps.store);
    let reads = 0;
    deps.store.listBilledTenants = async (page) => {
      if (++reads === 2) {
        const gone = await deps.store.getTenant('t1');
        if (gone) await deps.store.deleteTenant(gone, deps.clock.now().toISOString());
      }
      return listBilledTenants(page);
    };
    expect(await everyPage(deps)).toEqual([['t0', 't2'], ['t3', 't4'], ['t1']]);
  });
});

describe('a report', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("has its line items in code-unit order, as the usage rows have their apps, whatever the machine's locale", async () => {
    // Estonian sorts z between s and t: a report built under LANG=et_EE must not differ.
    const estonian = new Intl.Collator('et');
    vi.spyOn(String.prototype, 'localeCompare').mockImplementation(function (this: string, other: string) {
      return estonian.compare(this, other);
    });
    const deps = await fakeCoreDeps();
    deps.clock.current = new Date('2026-11-02T00:00:00Z');
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    for (const [hour, app] of [
      ['2026-10-01T00', 'z1'],
      ['2026-10-01T00', 's1'],
      ['2026-10-01T01', 't1'],
    ] as const) {
      await deps.store.addUsage(usageRow('acme', hour, app, 60));
    }
    const report = await buildReport(deps, 'acme', '2026-10', 'draft');
    expect(report.lineItems.map((item) => item.app)).toEqual(['s1', 't1', 'z1']);
    const usage = await getUsage(deps, 'acme', {
      from: '2026-10-01',
      to: '2026-10-02',
      granularity: 'day',
      limit: 10,
    });
    expect(usage.rows.map((row) => row.app)).toEqual(['s1', 't1', 'z1']);
  });
});
