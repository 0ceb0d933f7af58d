import { describe, expect, it } from 'vitest';
import { createApi } from '../../functions/http/api.ts';
import { meterUsage } from '../../functions/jobs/meter.ts';
import { ManualClock } from '../fakes/core-deps.ts';
import { ListedReplicas, replica } from '../fakes/fake-runtime.ts';
import { clientFor, localApi, sampleApp } from '../support/local-api.ts';

type Caps = { maxMonthlyInstanceHours?: number; maxMonthlyCost?: number };

/** Plan `capped`'s limits: room to grow, and a month of `caps`. */
const cappedLimits = (caps: Caps) => ({ apps: 5, instancesPerApp: 5, vcpu: 4, memoryMiB: 8192, ...caps });

/**
 * Tenant acme on plan `capped` (a month of `caps`) with app `web`, one replica running from now, and the API and the
 * meter on one clock of the test's: a month's usage without waiting for it.
 */
async function cappedTenant(caps: Caps) {
  const setup = await localApi();
  const clock = new ManualClock(new Date('2026-11-10T10:00:00Z'));
  const deps = { ...setup.deps, clock };
  const { call, createTenant } = clientFor(createApi(deps), setup.adminKey);
  const plan = { id: 'capped', name: 'Capped', limits: cappedLimits(caps) };
  expect((await call('POST', '/v1/plans', setup.adminKey, plan)).status).toBe(201);
  const key = (await createTenant('acme', 'capped')).key;
  expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
  const runtime = new ListedReplicas();
  runtime.replicas = [replica('acme', 'web', clock.now().toISOString())];
  /** App `web`'s events of `type`. */
  const eventsOf = async (type: string) =>
    ((await call('GET', '/v1/apps/web/events', key)).json.items as { type: string }[]).filter(
      (e) => e.type === type,
    );
  /** How many events of `type` app `web` has. */
  const told = async (type: string) => (await eventsOf(type)).length;
  /** The tenant's monthly cap, as it reads it. */
  const cap = async () =>
    ((await call('GET', '/v1/tenant', key)).json.usage as { monthlyCap: Record<string, unknown> }).monthlyCap;
  /** The plan's caps set anew, as the platform team sets them. */
  const setCaps = (next: Caps) =>
    call('PATCH', '/v1/plans/capped', setup.adminKey, { limits: cappedLimits(next) });
  const meter = () => meterUsage({ ...deps, runtime });
  return { clock, call, key, meter, eventsOf, told, cap, setCaps };
}

describe('monthly usage caps on DynamoDB Local', () => {
  it('warns once at 80 % and refuses scale-outs at 100 %, however many meters run at once', async () => {
    const { clock, call, key, meter, eventsOf, told, cap } = await cappedTenant({
      maxMonthlyInstanceHours: 1,
    });
    const meters = () => Promise.all([1, 2, 3].map(meter));

    clock.advance(47 * 60_000);
    await meters();
    expect(await told('usageWarning')).toBe(0);
    expect(await cap()).toMatchObject({ period: '2026-11', level: 'ok' });
    clock.advance(60_000); // 48 minutes: 80 % of the hour
    await meters();
    expect(await told('usageWarning')).toBe(1);
    expect(await cap()).toMatchObject({ level: 'warned', instanceHours: 0.8 });
    // What the tenant is told: the month, its cost and hours so far, and the plan's caps.
    const [warning] = await eventsOf('usageWarning');
    expect(warning).toMatchObject({
      message: 'tenant has used 80 % of its monthly cap',
      details: {
        period: '2026-11',
        cost: '0.009874',
        instanceHours: 0.8,
        maxMonthlyCost: null,
        maxMonthlyInstanceHours: 1,
      },
    });
    expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 2 })).status).toBe(200);

    clock.advance(12 * 60_000);
    await meters();
    await meters();
    expect(await told('usageCapReached')).toBe(1);
    expect(await told('usageWarning')).toBe(1);
    expect(await cap()).toMatchObject({ level: 'exceeded', instanceHours: 1 });
    const refused = await call('POST', '/v1/apps/web/scale', key, { replicas: 3 });
    expect(refused).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    // More memory at the same vCPU adds capacity too: the month is billed by both.
    const larger = await call('PATCH', '/v1/apps/web', key, { memory: 1024 });
    expect(larger).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    const another = await call('POST', '/v1/apps', key, sampleApp('api'));
    expect(another).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 1 })).status).toBe(200);
  });

  it("caps a month by its cost alone, at the month's prices", async () => {
    const { clock, call, key, meter, told, cap, setCaps } = await cappedTenant({ maxMonthlyCost: 0.01 });
    const events = async () => [await told('usageWarning'), await told('usageCapReached')];
    expect(await cap()).toEqual({ period: '2026-11', level: 'ok', cost: '0.000000', instanceHours: 0 });
    // The app's spec grows while there is room; the meter bills its running replica, of 0.25 vCPU and 512 MiB, at
    // the default prices: 0.0123425 USD an hour.
    expect((await call('PATCH', '/v1/apps/web', key, { cpu: 0.5, memory: 1024 })).status).toBe(200);
    clock.advance(38 * 60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'ok', cost: '0.007817' });
    clock.advance(60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'warned', cost: '0.008023' });
    clock.advance(9 * 60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'warned', cost: '0.009874' });
    expect(await events()).toEqual([1, 0]);
    clock.advance(60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'exceeded', cost: '0.010080' });
    expect(await events()).toEqual([1, 1]);
    const refused = await call('POST', '/v1/apps/web/scale', key, { replicas: 2 });
    expect(refused).toMatchObject({ status: 403, json: { code: 'quota.exceeded' } });
    // Less vCPU at the same memory, then less memory at the same vCPU: each gives back, and passes.
    expect((await call('PATCH', '/v1/apps/web', key, { cpu: 0.25 })).status).toBe(200);
    expect((await call('PATCH', '/v1/apps/web', key, { memory: 512 })).status).toBe(200);
    // The cap raised to 0.02 USD, the month back under 80 % of it, then at 80 % again (78 minutes): not told a
    // second time; raised to 1 USD, told nothing.
    expect((await setCaps({ maxMonthlyCost: 0.02 })).status).toBe(200);
    clock.advance(29 * 60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'warned', cost: '0.016045' });
    expect((await setCaps({ maxMonthlyCost: 1 })).status).toBe(200);
    clock.advance(60_000);
    await meter();
    expect(await cap()).toMatchObject({ level: 'ok', cost: '0.016251' });
    expect(await events()).toEqual([1, 1]);
  });

  it("counts a plan's caps as they are now, not as they were when the meter last ran", async () => {
    const { clock, call, key, meter, cap, setCaps } = await cappedTenant({ maxMonthlyInstanceHours: 1 });
    const scaleTo = async (replicas: number) =>
      (await call('POST', '/v1/apps/web/scale', key, { replicas })).status;
    const level = async () => (await cap()).level;

    clock.advance(60 * 60_000);
    await meter();
    expect([await level(), await scaleTo(2)]).toEqual(['exceeded', 403]);
    // The cap raised: the month's hour is half of it at once, before the meter runs again.
    expect((await setCaps({ maxMonthlyInstanceHours: 2 })).status).toBe(200);
    expect([await level(), await scaleTo(2)]).toEqual(['ok', 200]);
    // And lowered below the month's usage: refused at once.
    expect((await setCaps({ maxMonthlyInstanceHours: 1 })).status).toBe(200);
    expect([await level(), await scaleTo(3)]).toEqual(['exceeded', 403]);
  });
});
