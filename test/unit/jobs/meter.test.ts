import { describe, expect, it } from 'vitest';
import type { LifetimeRecord } from '../../../functions/core/ports.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { listEveryUsage } from '../../../functions/core/walk.ts';
import { meterUsage } from '../../../functions/jobs/meter.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { ListedReplicas, replica } from '../../fakes/fake-runtime.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

describe('the meter job', () => {
  it('meters every tenant but one whose metering fails, then fails the run naming it', async () => {
    const deps = await fakeCoreDeps();
    const tenants = ['t00', 't01', 't02'];
    for (const id of tenants) await createTenant(deps, { id, name: id, plan: 'pro' });
    const runtime = new ListedReplicas();
    runtime.replicas = tenants.map((id) => replica(id, 'web', '2026-11-22T09:30:00.000Z'));
    const observe = deps.meter.observeLifetime.bind(deps.meter);
    deps.meter.observeLifetime = async (lifetime) => {
      if (lifetime.tenantId === 't00') throw new Error('refused');
      return observe(lifetime);
    };
    await expect(meterUsage({ ...deps, runtime })).rejects.toThrow(
      "metering failed for t00 (each is logged); the other tenants' is done",
    );
    const metered = await Promise.all(tenants.map((id) => deps.meter.listOpenLifetimes(id)));
    expect(metered.map((open) => open.length)).toEqual([0, 1, 1]);
    expect(deps.logged).toEqual([
      expect.objectContaining({
        message: 'could not meter a tenant',
        tenantId: 't00',
        error: new Error('refused'),
      }),
    ]);
  });

  it('writes a lifetime only when it is new or stops, and meters eight tenants at once', async () => {
    const deps = await fakeCoreDeps();
    const tenants = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const id of tenants) await createTenant(deps, { id, name: id, plan: 'pro' });
    const runtime = new ListedReplicas();
    runtime.replicas = tenants.map((id) => replica(id, 'web', '2026-11-22T09:30:00.000Z'));
    // A replica of a tenant Berth does not know is not metered.
    runtime.replicas.push(replica('ghost', 'web', '2026-11-22T09:30:00.000Z'));

    const observed: LifetimeRecord[] = [];
    const observe = deps.meter.observeLifetime.bind(deps.meter);
    deps.meter.observeLifetime = (lifetime) => {
      observed.push(lifetime);
      return observe(lifetime);
    };
    const reads = overlapCounter(deps.meter.listOpenLifetimes.bind(deps.meter));
    deps.meter.listOpenLifetimes = reads.call;
    const meter = () => meterUsage({ ...deps, runtime });

    expect(await meter()).toEqual({ accrued: 12, closed: 0 });
    expect(observed.map((l) => l.tenantId).sort()).toEqual(tenants);
    expect(reads.most).toBe(8);

    // Nothing new: no lifetime is written again, however often the replicas are listed.
    observed.length = 0;
    deps.clock.advance(60_000);
    expect(await meter()).toEqual({ accrued: 12, closed: 0 });
    expect(observed).toEqual([]);

    // One stops: its stop is recorded once, and the lifetime closes.
    const [first] = runtime.replicas;
    if (!first) throw new Error('no replica');
    runtime.replicas[0] = { ...first, state: 'exited', stoppedAt: '2026-11-22T10:01:30.000Z' };
    deps.clock.advance(60_000);
    expect(await meter()).toEqual({ accrued: 12, closed: 1 });
    expect(observed.map((l) => [l.tenantId, l.stoppedSec])).toEqual([
      ['t00', Date.parse('2026-11-22T10:01:30.000Z') / 1000],
    ]);
    const usage = await listEveryUsage(deps.store, 't00', '2026-11-22T09', '2026-11-22T10');
    expect(usage.reduce((n, u) => n + u.instanceSeconds, 0)).toBe(30 * 60 + 90);
    expect(await deps.meter.listOpenLifetimes('ghost')).toEqual([]);
  });

  it('bills a replica that ended with the machine to where it was last metered, its stop being unknown', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const runtime = new ListedReplicas();
    const running = replica('acme', 'web', new Date(deps.clock.now().getTime() - 600_000).toISOString());
    runtime.replicas = [running];
    const meter = () => meterUsage({ ...deps, runtime });
    const billed = async () =>
      (await listEveryUsage(deps.store, 'acme', '2000-01-01T00', '2100-01-01T00')).reduce(
        (n, u) => n + u.instanceSeconds,
        0,
      );
    await meter();
    expect(await billed()).toBe(600);
    // The machine stops; it is off a weekend. When it is back the runtime has the replica exited, its stop unknown
    // (the engine stamped it with its own restart: see the Docker runtime's endedWithTheMachine).
    deps.clock.advance(60 * 3_600_000);
    runtime.replicas = [{ ...running, state: 'exited', stoppedAt: null, endpoint: null }];
    expect(await meter()).toEqual({ accrued: 1, closed: 1 });
    expect(await billed()).toBe(600);
    expect(await deps.meter.listOpenLifetimes('acme')).toEqual([]);
  });
});
