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
});
