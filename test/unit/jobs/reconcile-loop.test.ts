import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { ReconcileLoop } from '../../../functions/jobs/reconcile-loop.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { MemoryStore } from '../../fakes/memory-store.ts';

const OPTIONS = { tickMs: 5000, busyMs: 100 };

/**
 * A loop over a reconciler whose passes answer `outcomes` in turn (the last one from then on): fail, busy, done, or
 * done with a replica's health probe due in so many ms. Notes when each ran and on which app, what it did (`passed`,
 * `released`) in order, the app uids each orphan sweep kept, and what the loop logged.
 */
function loopOver(
  outcomes: ('fails' | 'busy' | 'done' | { probeInMs: number })[],
  {
    passMs = 0,
    release = async () => {},
    store = new MemoryStore(),
  }: { passMs?: number; release?: () => Promise<void>; store?: MemoryStore } = {},
) {
  const passes: number[] = [];
  const apps: string[] = [];
  const kept: Set<string>[] = [];
  const steps: string[] = [];
  const errors: Record<string, unknown>[] = [];
  const infos: Record<string, unknown>[] = [];
  const logged: string[] = [];
  const reconciler = {
    async reconcileApp(tenantId: string, app: string) {
      passes.push(Date.now());
      apps.push(`${tenantId}/${app}`);
      if (passMs) await new Promise((resolve) => setTimeout(resolve, passMs));
      steps.push('passed');
      const outcome = outcomes[Math.min(passes.length, outcomes.length) - 1];
      if (outcome === 'fails') throw new Error('the Docker Engine is unavailable');
      if (typeof outcome === 'object') return { busy: false, ...outcome };
      return { busy: outcome === 'busy' };
    },
    async removeOrphans(uids: Set<string>) {
      kept.push(uids);
      return 0;
    },
    async releaseLeases() {
      await release();
      steps.push('released');
    },
  };
  const loop = new ReconcileLoop(
    reconciler,
    store,
    {
      error: (message, details) => {
        logged.push(message);
        errors.push(details);
      },
      info: (message, details) => {
        logged.push(message);
        infos.push(details);
      },
    },
    OPTIONS,
  );
  return { loop, passes, apps, kept, steps, errors, infos, logged };
}

/** The times of the passes, from the first. */
const offsets = (passes: number[]) => passes.map((at) => at - (passes[0] ?? 0));

describe('the local reconcile loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries a failing app after busyMs, doubling the wait at each failure in a row, up to tickMs', async () => {
    const { loop, passes, errors } = loopOver(['fails']);
    loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(14_000);
    expect(offsets(passes)).toEqual([0, 100, 300, 700, 1500, 3100, 6300, 11_300]);
    expect(errors.map((e) => e.failures)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The first failure in a row in full, with its stack; the next ones in one line each.
    expect(errors.map((e) => e.error)).toEqual([
      new Error('the Docker Engine is unavailable'),
      ...Array(7).fill('the Docker Engine is unavailable'),
    ]);
    await loop.stop();
  });

  it('starts the backoff over after a pass that succeeds', async () => {
    const { loop, passes, logged, errors, infos } = loopOver(['fails', 'fails', 'fails', 'busy', 'fails']);
    loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(1000);
    // Failed, failed (+100), failed (+200), busy (+400), failed again (+100), and again (+100), next +200.
    expect(offsets(passes)).toEqual([0, 100, 300, 700, 800, 900]);
    // Said when it went through again, and the next failure is the first of a new row: in full again.
    expect(logged).toEqual([
      ...Array(3).fill('reconcile failed'),
      'reconcile works again',
      ...Array(2).fill('reconcile failed'),
    ]);
    expect(infos).toEqual([{ app: 'acme/web', after: 3 }]);
    expect(errors.map((e) => [e.failures, e.error instanceof Error])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [1, true],
      [2, false],
    ]);
    await loop.stop();
  });

  it('looks at a busy app again every busyMs, and at one that is done only when nudged', async () => {
    const busy = loopOver(['busy']);
    busy.loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(450);
    expect(offsets(busy.passes)).toEqual([0, 100, 200, 300, 400]);
    await busy.loop.stop();

    const done = loopOver(['done']);
    done.loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(done.passes).toHaveLength(1);
    await done.loop.stop();
  });

  it("looks at an app again when a replica's health probe falls due, sooner than a tick or between two", async () => {
    const { loop, passes } = loopOver([{ probeInMs: 2000 }, { probeInMs: 1500 }, 'done']);
    loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(offsets(passes)).toEqual([0, 2000, 3500]);
    await loop.stop();
  });

  it('lets a nudge take the place of the look it had planned at an app', async () => {
    const { loop, passes } = loopOver([{ probeInMs: 2000 }, 'done']);
    loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(500);
    loop.nudge('acme', 'web');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(offsets(passes)).toEqual([0, 500]);
    await loop.stop();
  });

  it('ticks every tickMs: a pass on every app of every tenant, then a sweep that keeps the replicas of those apps', async () => {
    const deps = await fakeCoreDeps();
    const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    for (const id of ['acme', 'beta']) await createTenant(deps, { id, name: id, plan: 'pro' });
    await createApp(deps, 'acme', { ...spec, name: 'web' });
    await createApp(deps, 'acme', { ...spec, name: 'api' });
    await createApp(deps, 'beta', { ...spec, name: 'web' });
    const uids = await Promise.all(
      [
        ['acme', 'web'],
        ['acme', 'api'],
        ['beta', 'web'],
      ].map(async ([tenant, app]) => (await deps.store.getApp(tenant ?? '', app ?? ''))?.uid),
    );
    const { loop, apps, kept } = loopOver(['done'], { store: deps.store });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(apps.sort()).toEqual(['acme/api', 'acme/web', 'beta/web']);
    expect(kept).toEqual([new Set(uids)]);
    await vi.advanceTimersByTimeAsync(OPTIONS.tickMs);
    expect(apps).toHaveLength(6);
    expect(kept).toHaveLength(2);
    await loop.stop();
  });

  it('removes no replica when it cannot read the apps: it says so and tries at the next tick', async () => {
    const store = new MemoryStore();
    let listings = 0;
    store.listTenants = async () => {
      listings++;
      throw new Error('the table is unavailable');
    };
    const { loop, kept, logged } = loopOver(['done'], { store });
    loop.start();
    await vi.advanceTimersByTimeAsync(OPTIONS.tickMs);
    expect(listings).toBe(2);
    expect(kept).toEqual([]);
    expect(logged).toEqual(['reconcile tick failed', 'reconcile tick failed']);
    await loop.stop();
  });

  it("hands the apps' leases back when it stops, once the pass running is done", async () => {
    const { loop, steps } = loopOver(['done'], { passMs: 10 });
    loop.nudge('acme', 'web');
    const stopped = loop.stop();
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    expect(steps).toEqual(['passed', 'released']);
  });

  it('stops all the same when it cannot hand the leases back, saying so', async () => {
    const { loop, logged } = loopOver(['done'], {
      release: async () => {
        throw new Error('the table is unavailable');
      },
    });
    await loop.stop();
    expect(logged).toEqual(["could not hand back the apps' leases; they run out on their own"]);
  });
});
