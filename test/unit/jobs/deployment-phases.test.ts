import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { listDeployments } from '../../../functions/core/deployments.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe("a deployment's phases, as the passes over its app reach them", () => {
  it('pulls and starts in the pass that starts its replicas, is healthy and takes traffic in the one that finds them ready', async () => {
    const { deps, reconcilerOf } = await scriptedWorld();
    const reconciler = reconcilerOf('test');
    const latest = async () => (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items[0];
    await createApp(deps, 'acme', WEB);
    await reconciler.reconcileApp('acme', 'web');
    const started = '2026-11-22T10:00:00.000Z';
    expect(await latest()).toMatchObject({
      status: 'in_progress',
      phases: { pull: started, start: started, healthy: null, traffic: null },
    });
    deps.clock.advance(1000);
    await reconciler.reconcileApp('acme', 'web');
    const ready = '2026-11-22T10:00:01.000Z';
    expect(await latest()).toMatchObject({
      status: 'succeeded',
      phases: { pull: started, start: started, healthy: ready, traffic: ready },
    });
  });
});
