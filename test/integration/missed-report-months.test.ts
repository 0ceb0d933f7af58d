import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meterUsage } from '../../functions/jobs/meter.ts';
import { buildMonthlyReports } from '../../functions/jobs/report.ts';
import { exitedReplica } from '../support/exited-replica.ts';
import { localApi } from '../support/local-api.ts';

describe('the report job on DynamoDB Local', () => {
  it('files final reports for the months it missed at its next run, then reads none of them again', async () => {
    const { createTenant, deps, wiring } = await localApi();
    let now = Date.parse('2026-08-20T12:00:00.000Z');
    deps.clock.now = () => new Date(now);
    await createTenant('acme');
    // acme's replica ran ten minutes in August, metered then.
    const replica = exitedReplica({
      createdAt: '2026-08-20T11:00:00.000Z',
      startedAt: '2026-08-20T11:00:00.000Z',
      stoppedAt: '2026-08-20T11:10:00.000Z',
    });
    await meterUsage({ ...deps, runtime: { listReplicas: async () => [replica] } });
    now = Date.parse('2026-09-10T12:00:00.000Z');
    await createTenant('zeta');

    // The job's first run comes on 2 November (the platform off, or the job failing, since August): August and
    // September are final, October a draft, as it would have been on time.
    now = Date.parse('2026-11-02T00:30:00.000Z');
    expect(await buildMonthlyReports(deps)).toEqual({ built: 5, left: 0 });
    const statuses = async (period: string) =>
      Promise.all(['acme', 'zeta'].map(async (id) => (await deps.meter.getReport(id, period))?.status));
    expect(await statuses('2026-08')).toEqual(['final', undefined]);
    expect(await statuses('2026-09')).toEqual(['final', 'final']);
    expect(await statuses('2026-10')).toEqual(['draft', 'draft']);
    expect(await deps.meter.getReport('acme', '2026-08')).toMatchObject({ total: { instanceSeconds: 600 } });
    // Filed for finance, each month with its own.
    expect(readdirSync(wiring.reportsDir).sort()).toEqual(['2026-08', '2026-09', '2026-10']);
    expect(readFileSync(join(wiring.reportsDir, '2026-08', 'acme.csv'), 'utf8')).toContain(
      'acme,2026-08,final,',
    );
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-09');

    // October settles; after that, a run reads no report of a month that is all final.
    now = Date.parse('2026-11-04T00:30:00.000Z');
    expect(await buildMonthlyReports(deps)).toEqual({ built: 2, left: 0 });
    expect(await statuses('2026-10')).toEqual(['final', 'final']);
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-10');
    const read: string[] = [];
    const getReport = deps.meter.getReport.bind(deps.meter);
    deps.meter.getReport = (tenantId, period) => {
      read.push(`${tenantId}/${period}`);
      return getReport(tenantId, period);
    };
    expect(await buildMonthlyReports(deps)).toEqual({ built: 0, left: 0 });
    expect(read).toEqual([]);
  });

  it('records the last month whose reports are all final, never moving it back, whichever run ends last', async () => {
    const { deps } = await localApi();
    expect(await deps.meter.reportsFinalThrough()).toBeUndefined();
    const months = ['2026-07', '2026-10', '2026-08', '2026-09'];
    await Promise.all(months.map((month) => deps.meter.markReportsFinalThrough(month)));
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-10');
    await deps.meter.markReportsFinalThrough('2026-09');
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-10');
    await deps.meter.markReportsFinalThrough('2026-11');
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-11');
  });
});
