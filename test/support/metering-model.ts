import fc from 'fast-check';
import { expect } from 'vitest';
import { buildReport } from '../../functions/core/billing.ts';
import { costMicroUsd, dollars } from '../../functions/core/billing-math.ts';
import type { CoreDeps, MeterStore } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { getUsage, hourOf } from '../../functions/core/usage.ts';
import { listEveryUsage } from '../../functions/core/walk.ts';
import { type MeterDeps, meterUsage } from '../../functions/jobs/meter.ts';
import { DEFAULT_PRICE_TABLE, MINIMUM_INSTANCE_SECONDS, type PriceTable } from '../../schemas/billing.ts';
import type { ManualClock } from '../fakes/core-deps.ts';
import { ListedReplicas, replica } from '../fakes/fake-runtime.ts';

/**
 * `deps` with every month billed by `prices`, as if the meter had kept that table for it: to price the same usage by
 * two tables.
 */
export const billedBy = <D extends Pick<CoreDeps, 'meter' | 'prices'>>(deps: D, prices: PriceTable): D => ({
  ...deps,
  prices,
  meter: Object.assign(Object.create(deps.meter) as MeterStore, { monthPrices: async () => prices }),
});

/** Four hours before October ends: lives and meter runs cross hours, a day and a month. */
const T0 = Date.parse('2026-10-31T20:00:00.000Z');
const HOUR_MS = 3_600_000;
const APPS = ['api', 'web'] as const;
const SIZES = [
  { cpu: 0.25, memoryMiB: 512 },
  { cpu: 1, memoryMiB: 3072 },
  { cpu: 16, memoryMiB: 122_880 },
];

/** A replica's life: which app, its size, when it starts (ms after T0) and how long it lives (ms), often briefly. */
const life = fc.record({
  app: fc.constantFrom(...APPS),
  size: fc.constantFrom(...SIZES),
  startMs: fc.integer({ min: 0, max: 8 * HOUR_MS }),
  livedMs: fc.oneof(fc.integer({ min: 0, max: 90_000 }), fc.integer({ min: 0, max: 6 * HOUR_MS })),
});
type Life = typeof life extends fc.Arbitrary<infer T> ? T : never;
export const replicaLives = fc.array(life, { minLength: 1, maxLength: 6 });

/** The meter's runs: the time since the one before (a tick, skipped ticks, hours), and how many run at once. */
export const meterRuns = fc.array(
  fc.record({
    afterMs: fc.oneof(fc.integer({ min: 1, max: 90_000 }), fc.integer({ min: 1, max: 3 * HOUR_MS })),
    together: fc.integer({ min: 1, max: 3 }),
  }),
  { minLength: 1, maxLength: 30 },
);
type Run = typeof meterRuns extends fc.Arbitrary<(infer T)[]> ? T : never;

type Amounts = {
  instanceSeconds: number;
  vcpuMilliSeconds: number;
  memoryMiBSeconds: number;
  shortfall: number;
};

/** What each app and hour should hold: every whole second of every life once, in the hour it fell in. */
function expectedUsage(lives: Life[]): Map<string, Amounts> {
  const usage = new Map<string, Amounts>();
  const add = (app: string, sec: number, seconds: number, shortfall: number, size: Life['size']) => {
    const key = `${app} ${hourOf(new Date(sec * 1000))}`;
    const sum = usage.get(key) ?? {
      instanceSeconds: 0,
      vcpuMilliSeconds: 0,
      memoryMiBSeconds: 0,
      shortfall: 0,
    };
    sum.instanceSeconds += seconds;
    sum.vcpuMilliSeconds += seconds * size.cpu * 1000;
    sum.memoryMiBSeconds += seconds * size.memoryMiB;
    sum.shortfall += shortfall;
    usage.set(key, sum);
  };
  for (const { app, size, startMs, livedMs } of lives) {
    const start = Math.floor((T0 + startMs) / 1000);
    const stop = Math.floor((T0 + startMs + livedMs) / 1000);
    for (let sec = start; sec < stop; ) {
      const end = Math.min(stop, (Math.floor(sec / 3600) + 1) * 3600);
      add(app, sec, end - sec, 0, size);
      sec = end;
    }
    add(app, start, 0, Math.max(0, MINIMUM_INSTANCE_SECONDS - (stop - start)), size);
  }
  return usage;
}

/** The seconds a month bills `app` for: those that fell in it, and with the minimum the shortfalls of its starts. */
function expectedMonth(usage: Map<string, Amounts>, app: string, period: string, minimum: boolean) {
  let seconds = 0;
  for (const [key, amounts] of usage) {
    const [of, hour = ''] = key.split(' ');
    if (of === app && hour.startsWith(period))
      seconds += amounts.instanceSeconds + (minimum ? amounts.shortfall : 0);
  }
  return seconds;
}

/**
 * Runs the meter job as `runs` says over replicas living `lives`, for a new tenant `tenantId`, then past every stop;
 * then checks that the table holds every whole second of each life once, in the hour it fell in (and what a life
 * shorter than the minimum fell short of, in its first hour), that the usage rows by the hour and by the day show
 * those seconds, each row priced as its amounts, and that each month's report bills what fell in it, with and
 * without the minimum, its total the sum of its line items.
 */
export async function checkMetering(
  deps: CoreDeps & { clock: ManualClock; logger: MeterDeps['logger'] },
  tenantId: string,
  lives: Life[],
  runs: Run[],
) {
  deps.clock.current = new Date(T0);
  await createTenant(deps, { id: tenantId, name: 'Metered', plan: 'pro' });
  const runtime = new ListedReplicas();
  const replicas = lives.map((l) => ({
    ...replica(tenantId, l.app, new Date(T0 + l.startMs).toISOString(), l.size),
    stopMs: T0 + l.startMs + l.livedMs,
    seenStopped: false,
  }));
  /** Meters `together` times at once, the runtime listing running replicas, and stopped ones until a run saw them. */
  const meter = async (together: number) => {
    const now = deps.clock.now().getTime();
    runtime.replicas = replicas.flatMap(({ stopMs, seenStopped, ...r }) => {
      if (Date.parse(r.startedAt ?? '') > now || seenStopped) return [];
      if (stopMs > now) return [r];
      return [{ ...r, state: 'exited' as const, stoppedAt: new Date(stopMs).toISOString(), exitCode: 0 }];
    });
    await Promise.all(Array.from({ length: together }, () => meterUsage({ ...deps, runtime })));
    for (const r of replicas) if (r.stopMs <= now) r.seenStopped = true;
  };
  for (const { afterMs, together } of runs) {
    deps.clock.advance(afterMs);
    await meter(together);
  }
  deps.clock.current = new Date(T0 + 15 * HOUR_MS);
  await meter(1);
  await meter(1);
  expect(await deps.meter.listOpenLifetimes(tenantId)).toEqual([]);

  const expected = expectedUsage(lives);
  const stored = new Map<string, Amounts>();
  for (const u of await listEveryUsage(deps.store, tenantId, '2026-10-31T00', '2026-11-01T23')) {
    stored.set(`${u.app} ${u.hour}`, {
      instanceSeconds: u.instanceSeconds,
      vcpuMilliSeconds: u.vcpuMilliSeconds,
      memoryMiBSeconds: u.memoryMiBSeconds,
      shortfall: u.shortfallInstanceSeconds,
    });
  }
  expect(stored).toEqual(expected);

  const range = { from: '2026-10-31T00:00:00Z', to: '2026-11-02T00:00:00Z', limit: 1000 };
  const hourly = await getUsage(deps, tenantId, { ...range, granularity: 'hour' });
  // A row for each app and hour that bills anything: not one of replicas that lived 0 s (without the minimum).
  expect(hourly.rows).toHaveLength([...expected.values()].filter((a) => a.instanceSeconds > 0).length);
  for (const row of hourly.rows) {
    const amounts = expected.get(`${row.app} ${row.start.slice(0, 13)}`);
    // A row of an app and hour that should hold nothing has no amounts to match, and fails.
    expect({ seconds: row.instanceSeconds, cost: row.cost }).toEqual(
      amounts && {
        seconds: amounts.instanceSeconds,
        cost: dollars(costMicroUsd(amounts, DEFAULT_PRICE_TABLE)),
      },
    );
  }
  const daily = await getUsage(deps, tenantId, { ...range, granularity: 'day' });
  const seconds = (rows: { app: string; instanceSeconds: number }[], app: string) =>
    rows.filter((r) => r.app === app).reduce((n, r) => n + r.instanceSeconds, 0);
  for (const app of APPS) expect(seconds(daily.rows, app)).toBe(seconds(hourly.rows, app));

  for (const minimum of [false, true]) {
    const prices: PriceTable = {
      ...DEFAULT_PRICE_TABLE,
      minimumSecondsPerInstance: minimum ? MINIMUM_INSTANCE_SECONDS : 0,
    };
    for (const period of ['2026-10', '2026-11']) {
      const report = await buildReport(billedBy(deps, prices), tenantId, period, 'draft');
      const billed = APPS.map((app) => ({ app, seconds: expectedMonth(expected, app, period, minimum) }));
      expect(report.lineItems.map((item) => ({ app: item.app, seconds: item.instanceSeconds }))).toEqual(
        billed.filter(({ seconds }) => seconds > 0),
      );
      const total = report.lineItems.reduce((n, item) => n + item.costMicroUsd, 0);
      expect(report.total.costMicroUsd).toBe(total);
    }
  }
}
