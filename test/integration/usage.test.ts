import { describe, expect, it } from 'vitest';
import { localApi } from '../support/local-api.ts';
import { usageRow } from '../support/usage-row.ts';

describe('GET /v1/tenants/{id}/usage on DynamoDB Local', () => {
  it('sums hourly usage exactly, per hour or per day, within from..to', async () => {
    const { call, adminKey, createTenant, deps } = await localApi();
    await createTenant('acme');
    await createTenant('other');
    let instances = 0;
    // Usage is written only by the meter: each row here is one accrual of a lifetime of its own.
    const add = async (tenantId: string, hour: string, app: string, seconds: number) => {
      const startedSec = Date.parse(`${hour}:00:00.000Z`) / 1000;
      instances += 1;
      const lifetime = {
        tenantId,
        instanceId: `i-${instances}`,
        app,
        cpu: 0.25,
        memoryMiB: 512,
        startedSec,
        stoppedSec: null,
        meteredSec: startedSec,
      };
      await deps.meter.observeLifetime(lifetime);
      const row = usageRow(tenantId, hour, app, seconds);
      expect(await deps.meter.accrueLifetime(lifetime, startedSec + seconds, [row], false)).toBe(true);
    };
    await add('acme', '2026-11-01T10', 'web', 3600);
    await add('acme', '2026-11-01T11', 'web', 1800);
    await add('acme', '2026-11-01T11', 'web', 1); // a second tick adds to the same hour
    await add('acme', '2026-11-01T11', 'api', 7);
    await add('acme', '2026-11-02T00', 'web', 60);
    await add('acme', '2026-12-01T00', 'web', 99);
    await add('other', '2026-11-01T10', 'web', 5);

    const daily = await call(
      'GET',
      '/v1/tenants/acme/usage?from=2026-11-01T00:00:00.000Z&to=2026-12-01T00:00:00.000Z&granularity=day',
      adminKey,
    );
    expect(daily.status).toBe(200);
    expect(daily.json.rows).toEqual([
      {
        start: '2026-11-01T00:00:00.000Z',
        end: '2026-11-02T00:00:00.000Z',
        app: 'api',
        vcpuSeconds: 1.75,
        memoryGiBSeconds: 3.5,
        instanceSeconds: 7,
        cost: '0.000024',
      },
      {
        start: '2026-11-01T00:00:00.000Z',
        end: '2026-11-02T00:00:00.000Z',
        app: 'web',
        vcpuSeconds: 1350.25,
        memoryGiBSeconds: 2700.5,
        instanceSeconds: 5401,
        cost: '0.018517',
      },
      {
        start: '2026-11-02T00:00:00.000Z',
        end: '2026-11-03T00:00:00.000Z',
        app: 'web',
        vcpuSeconds: 15,
        memoryGiBSeconds: 30,
        instanceSeconds: 60,
        cost: '0.000206',
      },
    ]);

    // Dates mean their midnight UTC, as a user asking for days would write them.
    const byDates = await call('GET', '/v1/tenants/acme/usage?from=2026-11-01&to=2026-12-01', adminKey);
    expect(byDates.json).toMatchObject({ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
    expect(byDates.json.rows).toEqual(daily.json.rows);

    const hourly = await call(
      'GET',
      '/v1/tenants/acme/usage?from=2026-11-01T11:00:00.000Z&to=2026-11-01T12:00:00.000Z&granularity=hour',
      adminKey,
    );
    expect(hourly.json.rows).toEqual([
      expect.objectContaining({ start: '2026-11-01T11:00:00.000Z', app: 'api', instanceSeconds: 7 }),
      expect.objectContaining({ start: '2026-11-01T11:00:00.000Z', app: 'web', instanceSeconds: 1801 }),
    ]);

    // A page at a time, each row once: the first page ends inside a day, the last says there is no next.
    const paged: unknown[] = [];
    let next = '';
    do {
      const page = await call(
        'GET',
        `/v1/tenants/acme/usage?from=2026-11-01&to=2026-12-01&limit=1${next ? `&cursor=${next}` : ''}`,
        adminKey,
      );
      expect(page.status).toBe(200);
      paged.push(...(page.json.rows as unknown[]));
      next = (page.json.nextCursor as string | null) ?? '';
    } while (next);
    expect(paged).toEqual(daily.json.rows);
    // A cursor taken to a narrower range goes on within it: no row before its `from`.
    const firstPage = await call(
      'GET',
      '/v1/tenants/acme/usage?from=2026-11-01&to=2026-12-01&limit=1',
      adminKey,
    );
    const narrower = await call(
      'GET',
      `/v1/tenants/acme/usage?from=2026-11-02&to=2026-12-01&cursor=${firstPage.json.nextCursor}`,
      adminKey,
    );
    expect(narrower.json.rows).toEqual((daily.json.rows as unknown[]).slice(2));

    // The table's own pages of a range, whose cursors stay inside it.
    const first = await deps.store.listUsage('acme', '2026-11-01T00', '2026-11-30T23', { limit: 2 });
    expect(first.items.map((u) => `${u.hour} ${u.app}`)).toEqual(['2026-11-01T10 web', '2026-11-01T11 api']);
    const second = await deps.store.listUsage('acme', '2026-11-01T00', '2026-11-30T23', {
      limit: 2,
      cursor: first.nextCursor ?? '',
    });
    expect(second.items.map((u) => `${u.hour} ${u.app}`)).toEqual(['2026-11-01T11 web', '2026-11-02T00 web']);
    expect(second.nextCursor).toBeNull();
    await expect(
      deps.store.listUsage('acme', '2026-11-02T00', '2026-11-30T23', {
        limit: 2,
        cursor: first.nextCursor ?? '',
      }),
    ).rejects.toMatchObject({ code: 'validation.failed' });
  });

  it('refuses an inverted range and answers 404 for an unknown tenant', async () => {
    const { call, adminKey, createTenant } = await localApi();
    await createTenant('acme');
    const inverted = await call(
      'GET',
      '/v1/tenants/acme/usage?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z',
      adminKey,
    );
    expect(inverted).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    // Compared as instants: a date is not before its own midnight, and a month 13 is no date.
    for (const [query, message] of [
      [
        'from=2026-11-02&to=2026-11-02T00:00:00Z',
        'from must be before to: from 2026-11-02T00:00:00.000Z … to 2026-11-02T00:00:00.000Z',
      ],
      [
        'from=2026-13-01',
        'must be an ISO-8601 timestamp such as 2026-11-22T10:00:00Z or 2026-11-22T11:00:00+01:00, or a date such as 2026-11-01',
      ],
      // An offset is the instant it names; a timestamp without one names none.
      [
        'from=2026-11-02T01:00:00%2B02:00&to=2026-11-01T23:00:00Z',
        'from must be before to: from 2026-11-01T23:00:00.000Z … to 2026-11-01T23:00:00.000Z',
      ],
      [
        'from=2026-11-02T01:00:00',
        'must be an ISO-8601 timestamp such as 2026-11-22T10:00:00Z or 2026-11-22T11:00:00+01:00, or a date such as 2026-11-01',
      ],
    ]) {
      const res = await call('GET', `/v1/tenants/acme/usage?${query}`, adminKey);
      expect({ query, status: res.status, errors: res.json.errors }).toEqual({
        query,
        status: 400,
        errors: [{ path: 'from', message }],
      });
    }
    expect((await call('GET', '/v1/tenants/ghost/usage', adminKey)).status).toBe(404);
  });

  it('checks the span with its defaults filled in: a from alone in the future, or a to alone before this month', async () => {
    const { call, adminKey, createTenant } = await localApi();
    await createTenant('acme');
    const errorsOf = async (query: string) =>
      (await call('GET', `/v1/tenants/acme/usage?${query}`, adminKey)).json.errors;
    expect(await errorsOf('from=2999-01-01')).toEqual([
      {
        path: 'from',
        message: expect.stringMatching(
          /^from must be before to: from 2999-01-01T00:00:00\.000Z … to .+ \(now, by default\)$/,
        ),
      },
    ]);
    expect(await errorsOf('to=2001-01-01')).toEqual([
      {
        path: 'to',
        message: expect.stringMatching(
          /^from must be before to: from .+ \(the start of the month, by default\) … to 2001-01-01T00:00:00\.000Z$/,
        ),
      },
    ]);
    expect(await errorsOf('from=2001-01-01')).toEqual([
      { path: 'from', message: expect.stringMatching(/^from\.\.to may span at most 366 days: /) },
    ]);
    expect(await errorsOf('from=2026-01-01&to=2027-01-03')).toEqual([
      { path: 'to', message: expect.stringMatching(/^from\.\.to may span at most 366 days: /) },
    ]);
  });
});
