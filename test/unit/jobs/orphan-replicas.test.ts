import { describe, expect, it } from 'vitest';
import { createApp, getAppRecord } from '../../../functions/core/apps.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('the sweep of replicas whose app is gone', () => {
  it('removes them, and only them, billing each to its stop', async () => {
    const { deps, runtime, reconcilerOf } = await scriptedWorld();
    const reconciler = reconcilerOf('test');
    await createApp(deps, 'acme', WEB);
    await createApp(deps, 'acme', { ...WEB, name: 'api' });
    await reconciler.reconcileApp('acme', 'web');
    await reconciler.reconcileApp('acme', 'api');
    const gone = await getAppRecord(deps, 'acme', 'web');
    // Its record went behind the platform's back (a table restored from before it, a lost lease).
    await deps.store.finalizeAppDeletion(gone);
    deps.clock.advance(30_000);
    const kept = await getAppRecord(deps, 'acme', 'api');
    expect(await reconciler.removeOrphans(new Set([kept.uid]))).toBe(1);
    expect((await runtime.listReplicas()).map((r) => r.app)).toEqual(['api']);
    const lifetimes = await deps.meter.listOpenLifetimes('acme');
    expect(lifetimes.find((l) => l.app === 'web')).toMatchObject({
      stoppedSec: deps.clock.now().getTime() / 1000,
    });
  });

  it('removes none when most apps are gone at once, which says the table is another, and says so once', async () => {
    const { deps, runtime, reconcilerOf } = await scriptedWorld();
    const reconciler = reconcilerOf('test');
    const names = ['web', 'api', 'worker', 'admin'];
    for (const name of names) {
      await createApp(deps, 'acme', { ...WEB, name });
      await reconciler.reconcileApp('acme', name);
    }
    const uids = new Map<string, string>();
    for (const name of names) uids.set(name, (await getAppRecord(deps, 'acme', name)).uid);
    deps.logged.length = 0;
    // Three of four apps unknown to the table the platform reads (another data directory, same installation name).
    const known = new Set([uids.get('admin') ?? '']);
    for (let tick = 0; tick < 3; tick++) expect(await reconciler.removeOrphans(known)).toBe(0);
    expect((await runtime.listReplicas()).map((r) => r.app).sort()).toEqual([...names].sort());
    expect(deps.logged).toEqual([
      expect.objectContaining({
        message: 'orphans not removed',
        refused: expect.stringMatching(
          /^3 of the 4 apps whose containers this installation runs have nothing/,
        ),
      }),
    ]);
    // Told again should it come back after a sweep that was not refused.
    expect(await reconciler.removeOrphans(new Set(uids.values()))).toBe(0);
    expect(await reconciler.removeOrphans(known)).toBe(0);
    expect(deps.logged.map((l) => l.message)).toEqual(['orphans not removed', 'orphans not removed']);
    // Two of four is no such sign: they go.
    known.add(uids.get('worker') ?? '');
    expect(await reconciler.removeOrphans(known)).toBe(2);
    expect((await runtime.listReplicas()).map((r) => r.app).sort()).toEqual(['admin', 'worker']);
  });
});
