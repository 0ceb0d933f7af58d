import { describe, expect, it, vi } from 'vitest';
import { createTenant } from '../../../functions/core/tenants.ts';
import { getUsage } from '../../../functions/core/usage.ts';
import type { UsageReport } from '../../../schemas/usage.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { usageRow } from '../../support/usage-row.ts';

const APPS = ['api', 'web', 'worker'];

/** A tenant whose three apps each ran `seconds` in every hour of `days` days from 2026-10-01. */
async function withUsage(days: number, seconds = 60) {
  const deps = await fakeCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  for (let day = 1; day <= days; day++) {
    for (let hour = 0; hour < 24; hour++) {
      for (const app of APPS) {
        const hourOfDay = `2026-10-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}`;
        await deps.store.addUsage(usageRow('acme', hourOfDay, app, seconds));
      }
    }
  }
  return deps;
}

type Deps = Awaited<ReturnType<typeof withUsage>>;

/** Every row of a query, page by page, and how many pages it took. */
async function everyPage(deps: Deps, query: Omit<Parameters<typeof getUsage>[2], 'cursor'>) {
  const rows: UsageReport['rows'] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await getUsage(deps, 'acme', { ...query, ...(cursor ? { cursor } : {}) });
    expect(page.rows.length).toBeLessThanOrEqual(query.limit);
    rows.push(...page.rows);
    cursor = page.nextCursor ?? undefined;
    pages += 1;
  } while (cursor);
  return { rows, pages };
}

describe('usage pages', () => {
  const range = { from: '2026-10-01', to: '2026-11-01' };

  it('pages rows by day and app, a cursor falling inside a day, into what one page would show', async () => {
    const deps = await withUsage(3);
    const whole = await getUsage(deps, 'acme', { ...range, granularity: 'day', limit: 1000 });
    expect(whole.nextCursor).toBeNull();
    expect(whole.rows.map((r) => `${r.start.slice(0, 10)} ${r.app} ${r.instanceSeconds}`)).toEqual(
      ['01', '02', '03'].flatMap((day) => APPS.map((app) => `2026-10-${day} ${app} 1440`)),
    );
    for (const limit of [1, 2, 4]) {
      const paged = await everyPage(deps, { ...range, granularity: 'day', limit });
      expect(paged.rows).toEqual(whole.rows);
      expect(paged.pages).toBe(Math.ceil(whole.rows.length / limit));
    }
    const hourly = await getUsage(deps, 'acme', { ...range, granularity: 'hour', limit: 1000 });
    expect(hourly.rows).toHaveLength(3 * 24 * 3);
    expect((await everyPage(deps, { ...range, granularity: 'hour', limit: 50 })).rows).toEqual(hourly.rows);
  });

  it("keeps one app's rows with app, page by page, and none for a name without usage", async () => {
    const deps = await withUsage(3);
    const all = await getUsage(deps, 'acme', { ...range, granularity: 'hour', limit: 1000 });
    const web = await getUsage(deps, 'acme', { ...range, granularity: 'hour', limit: 1000, app: 'web' });
    expect(web.rows).toEqual(all.rows.filter((row) => row.app === 'web'));
    expect(web.rows).toHaveLength(3 * 24);
    for (const limit of [1, 7]) {
      const paged = await everyPage(deps, { ...range, granularity: 'day', limit, app: 'web' });
      expect(paged.rows.map((r) => `${r.start.slice(0, 10)} ${r.app} ${r.instanceSeconds}`)).toEqual(
        ['01', '02', '03'].map((day) => `2026-10-${day} web 1440`),
      );
    }
    // No app need exist: an app's usage outlives it, and any name is looked for as it is.
    expect(
      (await getUsage(deps, 'acme', { ...range, granularity: 'day', limit: 10, app: 'gone' })).rows,
    ).toEqual([]);
  });

  it('reads the table no further than a page needs', async () => {
    // 30 days × 24 hours × 3 apps: 2,160 records, three reads of the table for them all.
    const deps = await withUsage(30);
    const reads = vi.spyOn(deps.store, 'listUsage');
    const first = await getUsage(deps, 'acme', { ...range, granularity: 'day', limit: 3 });
    expect(first.rows.map((r) => r.app)).toEqual(APPS);
    expect(first.nextCursor).not.toBeNull();
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockClear();
    // The next page reads again from its cursor's day, not from the start of the range.
    const later = await getUsage(deps, 'acme', {
      ...range,
      granularity: 'day',
      limit: 3,
      cursor: first.nextCursor ?? '',
    });
    expect(later.rows.map((r) => r.start.slice(0, 10))).toEqual(['2026-10-02', '2026-10-02', '2026-10-02']);
    expect(reads.mock.calls[0]?.[1]).toBe('2026-10-01T00');
  });

  it('refuses a cursor it did not make, or one made for the other granularity', async () => {
    const deps = await withUsage(1);
    const byDay = await getUsage(deps, 'acme', { ...range, granularity: 'day', limit: 1 });
    const asked = (cursor: string, granularity: 'hour' | 'day') =>
      getUsage(deps, 'acme', { ...range, granularity, limit: 1, cursor });
    await expect(asked(byDay.nextCursor ?? '', 'hour')).rejects.toMatchObject({ code: 'validation.failed' });
    await expect(asked('not-a-cursor', 'day')).rejects.toMatchObject({ code: 'validation.failed' });
    const forged = Buffer.from(JSON.stringify('2026-10-01 Web')).toString('base64url');
    await expect(asked(forged, 'day')).rejects.toMatchObject({ code: 'validation.failed' });
  });
});

describe('a usage range within hours', () => {
  it('takes in the whole hours it touches, and says so: the answer’s from and to on the hour, a day’s row cut to them', async () => {
    const deps = await withUsage(2);
    const query = { from: '2026-10-01T06:30:00Z', to: '2026-10-01T07:15:00+00:00', limit: 1000 };
    const hourly = await getUsage(deps, 'acme', { ...query, granularity: 'hour' });
    expect([hourly.from, hourly.to]).toEqual(['2026-10-01T06:00:00.000Z', '2026-10-01T08:00:00.000Z']);
    const hours = [
      ['06:00', '07:00'],
      ['07:00', '08:00'],
    ];
    expect(hourly.rows.map((r) => `${r.start} ${r.end} ${r.app} ${r.instanceSeconds}`)).toEqual(
      hours.flatMap(([start, end]) =>
        APPS.map((app) => `2026-10-01T${start}:00.000Z 2026-10-01T${end}:00.000Z ${app} 60`),
      ),
    );
    const daily = await getUsage(deps, 'acme', { ...query, granularity: 'day' });
    expect([daily.from, daily.to]).toEqual([hourly.from, hourly.to]);
    expect(daily.rows.map((r) => `${r.start} ${r.end} ${r.app} ${r.instanceSeconds}`)).toEqual(
      APPS.map((app) => `2026-10-01T06:00:00.000Z 2026-10-01T08:00:00.000Z ${app} 120`),
    );
    // Across midnight: the first day from `from`, the second to `to`, each whole hour between.
    const across = await getUsage(deps, 'acme', {
      from: '2026-10-01T22:10:00Z',
      to: '2026-10-02T01:00:00Z',
      granularity: 'day',
      limit: 1000,
    });
    expect(
      across.rows.filter((r) => r.app === 'web').map((r) => `${r.start} ${r.end} ${r.instanceSeconds}`),
    ).toEqual([
      '2026-10-01T22:00:00.000Z 2026-10-02T00:00:00.000Z 120',
      '2026-10-02T00:00:00.000Z 2026-10-02T01:00:00.000Z 60',
    ]);
  });
});
