import { describe, expect, it } from 'vitest';
import { periodOf } from '../../functions/core/billing.ts';
import { meterUsage } from '../../functions/jobs/meter.ts';
import { buildMonthlyReports } from '../../functions/jobs/report.ts';
import { exitedReplica } from '../support/exited-replica.ts';
import { localApi } from '../support/local-api.ts';

type Json = Record<string, unknown>;

describe("a deleted tenant's usage, on DynamoDB Local", () => {
  it('is metered to its end and billed in the reports of the months it was there', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    // Mid-month, so that all of it falls in one month whenever the test runs.
    const nowMs = Date.parse('2026-11-15T12:00:00.000Z');
    deps.clock.now = () => new Date(nowMs);
    await createTenant('acme');
    await createTenant('zeta');
    const period = periodOf(new Date(nowMs));
    // acme's last replica, which ran 570 s and stopped as its last app went: the meter sees it only after the tenant
    // is deleted.
    const replica = exitedReplica({
      id: 'i-last',
      createdAt: new Date(nowMs - 601_000).toISOString(),
      startedAt: new Date(nowMs - 600_000).toISOString(),
      stoppedAt: new Date(nowMs - 30_000).toISOString(),
      exitCode: 0,
    });
    expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    await meterUsage({ ...deps, runtime: { listReplicas: async () => [replica] } });

    // The admin's list has it after the tenants there, with what its replica used.
    const reports = await call('GET', `/v1/billing/reports/${period}`, adminKey);
    expect(reports.status).toBe(200);
    expect((reports.json.reports as Json[]).map((r) => r.tenant)).toEqual(['zeta', 'acme']);
    const [, acme] = reports.json.reports as Json[];
    expect(acme).toMatchObject({
      status: 'draft',
      lineItems: [{ app: 'web', instanceSeconds: 570, vcpuSeconds: 142.5 }],
    });
    // The report job files it as it does any tenant's.
    expect(await buildMonthlyReports(deps, { period })).toEqual({ built: 2, left: 0 });
    expect(await deps.meter.getReport('acme', period)).toMatchObject({
      status: 'draft',
      total: { instanceSeconds: 570 },
    });
    // The admin reads its usage by the hour, as any tenant's, to check the bill.
    const hour = new Date(nowMs - 3_600_000).toISOString().slice(0, 13);
    const usage = await call('GET', `/v1/tenants/acme/usage?from=${hour}:00:00Z`, adminKey);
    expect(usage).toMatchObject({ status: 200, json: { tenant: 'acme' } });
    expect((usage.json.rows as Json[]).map((row) => [row.app, row.instanceSeconds])).toEqual([['web', 570]]);
    expect((await call('GET', '/v1/tenants/nobody/usage', adminKey)).status).toBe(404);
    // Nowhere else is it a tenant.
    expect(((await call('GET', '/v1/tenants', adminKey)).json.items as Json[]).map((t) => t.id)).toEqual([
      'zeta',
    ]);
    expect((await call('GET', '/v1/tenants/acme', adminKey)).status).toBe(404);
  });

  it('is in no report of a month after the one it was deleted in', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    await createTenant('acme');
    expect((await call('DELETE', '/v1/tenants/acme', adminKey)).status).toBe(204);
    const now = deps.clock.now.bind(deps.clock);
    const nextMonth = new Date(now());
    nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1, 1);
    deps.clock.now = () => nextMonth;
    const reports = await call('GET', `/v1/billing/reports/${periodOf(nextMonth)}`, adminKey);
    expect(reports.json).toMatchObject({ reports: [], nextCursor: null });
    expect(await buildMonthlyReports(deps, { period: periodOf(nextMonth) })).toEqual({ built: 0, left: 0 });
  });
});
