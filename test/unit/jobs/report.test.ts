import { describe, expect, it } from 'vitest';
import { createTenant } from '../../../functions/core/tenants.ts';
import { buildMonthlyReports } from '../../../functions/jobs/report.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import type { MemoryReportArchive } from '../../fakes/memory-meter-store.ts';

const DAY = 24 * 3_600_000;

async function withTenants(count: number) {
  const deps = await fakeCoreDeps();
  deps.clock.current = new Date('2026-10-31T23:00:00.000Z');
  const ids = Array.from({ length: count }, (_, i) => `t${String(i).padStart(2, '0')}`);
  for (const id of ids) await createTenant(deps, { id, name: id, plan: 'free' });
  deps.clock.current = new Date('2026-11-01T00:30:00.000Z');
  // The order in which reports are built: each build starts by reading the tenant's usage, and takes `buildMs` of
  // the run's time.
  const builds: string[] = [];
  let buildMs = 0;
  const listUsage = deps.store.listUsage.bind(deps.store);
  deps.store.listUsage = (tenantId, from, to, page) => {
    builds.push(tenantId);
    deps.clock.advance(buildMs);
    return listUsage(tenantId, from, to, page);
  };
  const eachBuildTakesASecond = () => {
    buildMs = 1000;
  };
  return { deps, ids, builds, eachBuildTakesASecond, archive: deps.reportArchive as MemoryReportArchive };
}

describe('the report job', () => {
  it("files every tenant's report but one whose build fails, then fails the run naming it", async () => {
    const { deps, archive } = await withTenants(3);
    const put = deps.meter.putReport.bind(deps.meter);
    deps.meter.putReport = async (report) => {
      if (report.tenant === 't00') throw new Error('refused');
      return put(report);
    };
    await expect(buildMonthlyReports(deps)).rejects.toThrow(
      'the 2026-10 reports of t00 failed (each is logged); the others are filed',
    );
    expect([...archive.files.keys()]).toEqual(['t01/2026-10', 't02/2026-10']);
    expect(deps.logged).toEqual([
      expect.objectContaining({ message: 'could not build a report', tenantId: 't00', period: '2026-10' }),
    ]);
  });

  it("builds and files last month's reports, as drafts again on later runs, final once the month has settled", async () => {
    const { deps, ids, archive } = await withTenants(3);
    expect(await buildMonthlyReports(deps)).toEqual({ built: 3, left: 0 });
    expect([...archive.files.keys()]).toEqual(ids.map((id) => `${id}/2026-10`));
    // A draft, filed with its status: late usage may still change it.
    expect(await deps.meter.getReport('t00', '2026-10')).toMatchObject({ status: 'draft' });
    expect(archive.files.get('t00/2026-10')?.csv).toContain('t00,2026-10,draft,');

    // Late usage still counts: the next day's run builds them again, drafts still.
    deps.clock.advance(DAY);
    expect(await buildMonthlyReports(deps)).toEqual({ built: 3, left: 0 });
    expect(await deps.meter.getReport('t00', '2026-10')).toMatchObject({ status: 'draft' });
    // Three days after the month, one more build: final, and it stands.
    deps.clock.current = new Date('2026-11-04T00:30:00.000Z');
    expect(await buildMonthlyReports(deps)).toEqual({ built: 3, left: 0 });
    deps.clock.advance(DAY);
    expect(await buildMonthlyReports(deps)).toEqual({ built: 0, left: 0 });
    expect(await deps.meter.getReport('t00', '2026-10')).toMatchObject({
      status: 'final',
      generatedAt: '2026-11-04T00:30:00.000Z',
    });
    expect(archive.files.get('t00/2026-10')?.csv).toContain('t00,2026-10,final,');
  });

  it('builds the months after one whose report fails, names it, and builds it again at the next run', async () => {
    const { deps } = await withTenants(2);
    // The job's next run comes in December: October and November have settled.
    deps.clock.current = new Date('2026-12-05T00:30:00.000Z');
    const put = deps.meter.putReport.bind(deps.meter);
    deps.meter.putReport = async (report) => {
      if (report.tenant === 't00' && report.period === '2026-10') throw new Error('refused');
      return put(report);
    };
    await expect(buildMonthlyReports(deps)).rejects.toThrow(
      'the 2026-10 reports of t00 failed (each is logged); the others are filed',
    );
    expect(await deps.meter.getReport('t00', '2026-11')).toMatchObject({ status: 'final' });
    // No month is all final while October misses one.
    expect(await deps.meter.reportsFinalThrough()).toBeUndefined();
    deps.meter.putReport = put;
    expect(await buildMonthlyReports(deps)).toEqual({ built: 1, left: 0 });
    expect(await deps.meter.getReport('t00', '2026-10')).toMatchObject({ status: 'final' });
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-11');
  });

  it('marks no month done with by a run under way as the month settles: its reports are drafts, built again', async () => {
    const { deps, eachBuildTakesASecond } = await withTenants(3);
    // A second before October settles.
    deps.clock.current = new Date('2026-11-03T23:59:59.000Z');
    eachBuildTakesASecond();
    expect(await buildMonthlyReports(deps)).toEqual({ built: 3, left: 0 });
    const statuses = await Promise.all(
      ['t00', 't01', 't02'].map((id) => deps.meter.getReport(id, '2026-10')),
    );
    expect(statuses.map((report) => report?.status)).toEqual(['draft', 'draft', 'draft']);
    expect(await deps.meter.reportsFinalThrough()).toBeUndefined();
    // The next run builds them final, and is done with October.
    expect(await buildMonthlyReports(deps)).toEqual({ built: 3, left: 0 });
    expect(await deps.meter.reportsFinalThrough()).toBe('2026-10');
  });

  it('makes no report for a month that ended before the tenant was created', async () => {
    const { deps, archive } = await withTenants(1);
    await createTenant(deps, { id: 'late', name: 'Late', plan: 'free' });
    expect(await buildMonthlyReports(deps)).toEqual({ built: 1, left: 0 });
    expect([...archive.files.keys()]).toEqual(['t00/2026-10']);
    expect(await deps.meter.getReport('late', '2026-10')).toBeUndefined();
  });

  it('starts no report after its deadline, and the next run starts with the reports still missing', async () => {
    const { deps, ids, builds, eachBuildTakesASecond, archive } = await withTenants(30);
    eachBuildTakesASecond();
    const deadlineMs = deps.clock.now().getTime() + 10_000;
    expect(await buildMonthlyReports(deps, { deadlineMs })).toEqual({ built: 10, left: 20 });
    expect(archive.files.size).toBe(10);
    const first = builds.splice(0);
    expect(first).toEqual(ids.slice(0, 10));

    expect(await buildMonthlyReports(deps)).toEqual({ built: 30, left: 0 });
    // Missing ones first, then the oldest.
    expect(builds.slice(0, 20)).toEqual(ids.slice(10));
    expect(builds.slice(20).sort()).toEqual(first);
    expect(archive.files.size).toBe(30);
  });
});
