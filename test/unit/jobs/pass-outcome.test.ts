import { describe, expect, it } from 'vitest';
import { createApp, stopApp } from '../../../functions/core/apps.ts';
import { DEFAULT_HEALTH_CHECK } from '../../../functions/core/reconcile-plan.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('what a pass over an app leaves to do', () => {
  it("says to look again soon while a replica starts, then when a serving replica's next probe falls due", async () => {
    const { deps, reconcilerOf } = await scriptedWorld();
    const reconciler = reconcilerOf('test');
    const pass = async (ms: number) => {
      deps.clock.advance(ms);
      return reconciler.reconcileApp('acme', 'web');
    };
    await createApp(deps, 'acme', {
      ...WEB,
      healthCheck: { ...DEFAULT_HEALTH_CHECK, path: '/', intervalSeconds: 30 },
    });
    expect(await pass(0)).toEqual({ busy: true });
    // Ready at its first probe: the next is its check's interval away, and the local loop looks again then.
    expect(await pass(1000)).toEqual({ busy: false, probeInMs: 30_000 });
    expect(await pass(12_000)).toEqual({ busy: false, probeInMs: 18_000 });
    expect(await pass(18_000)).toEqual({ busy: false, probeInMs: 30_000 });
    // Stopped, its replica goes at the next pass, after which nothing of it is probed.
    await stopApp(deps, 'acme', 'web');
    await pass(1000);
    expect(await pass(1000)).toEqual({ busy: false });
  });
});
