import { describe, expect, it } from 'vitest';
import { createApp, restartApp, scaleApp, stopApp } from '../../../functions/core/apps.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

/** Tenant acme's world, with a reconciler's passes a tick apart, each handing the lease back as the loop does. */
async function world() {
  const { deps, runtime, reconcilerOf } = await scriptedWorld();
  const reconciler = reconcilerOf('test');
  const pass = async (by = reconciler) => {
    deps.clock.advance(5_000);
    await by.reconcileApp('acme', 'web');
    await by.releaseLeases();
  };
  const removedEvents = () => deps.store.events.filter((e) => e.type === 'replicaRemoved');
  return { deps, runtime, reconciler, reconcilerOf, pass, removedEvents };
}

describe('a replica removed outside Berth, as a pass sees it', () => {
  it('tells of a replica whose container went behind its back, once, and starts another in its slot', async () => {
    const { deps, runtime, pass, removedEvents } = await world();
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await pass();
    await pass();
    const gone = [...runtime.replicas.values()].find((r) => r.slot === 1);
    runtime.replicas.delete(gone?.id ?? '');
    await pass();
    expect(removedEvents()).toEqual([
      expect.objectContaining({
        message: 'replica 1 is gone: it was removed outside Berth',
        details: { replica: gone?.id, revision: 1 },
      }),
    ]);
    expect([...runtime.replicas.values()].map((r) => r.slot).sort()).toEqual([0, 1]);
    await pass();
    expect(removedEvents()).toHaveLength(1);
  });

  it('tells of a replica the engine stopped for someone else with the code it exited with', async () => {
    const { deps, runtime, pass, removedEvents } = await world();
    await createApp(deps, 'acme', WEB);
    await pass();
    await pass();
    const [stopped] = runtime.replicas.values();
    const why = 'the engine sent its container SIGTERM';
    Object.assign(stopped ?? {}, { state: 'exited', exitCode: 143, stoppedOutside: why });
    await pass();
    expect(removedEvents()).toEqual([
      expect.objectContaining({
        message: `replica 0 was stopped outside Berth: ${why}`,
        details: { replica: stopped?.id, revision: 1, exitCode: 143 },
      }),
    ]);
    expect(deps.store.events.map((e) => e.type)).not.toContain('replicaExited');
  });

  it('removes a replica paused outside Berth and says so, once; its slot starts another, counting no failure', async () => {
    const { deps, runtime, pass, removedEvents } = await world();
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await pass();
    await pass();
    const paused = [...runtime.replicas.values()].find((r) => r.slot === 1);
    Object.assign(paused ?? {}, { paused: true, endpoint: null });
    await pass();
    expect(removedEvents()).toEqual([
      expect.objectContaining({
        message: 'replica 1 was paused outside Berth: Berth removed it',
        details: { replica: paused?.id, revision: 1 },
      }),
    ]);
    expect(runtime.replicas.has(paused?.id ?? '')).toBe(false);
    expect([...runtime.replicas.values()].map((r) => [r.slot, r.paused ?? false]).sort()).toEqual([
      [0, false],
      [1, false],
    ]);
    await pass();
    expect(removedEvents()).toHaveLength(1);
    expect(deps.store.events.map((e) => e.type)).not.toContain('replicaExited');
  });

  it('says nothing of the replicas it removes itself: crashed, scaled in, restarted, stopped', async () => {
    const { deps, runtime, pass, removedEvents } = await world();
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await pass();
    runtime.crash(1);
    await pass();
    await pass();
    await scaleApp(deps, 'acme', 'web', 1);
    await pass();
    await restartApp(deps, 'acme', 'web');
    for (let i = 0; i < 3; i++) await pass();
    await stopApp(deps, 'acme', 'web');
    await pass();
    await pass();
    expect(runtime.replicas.size).toBe(0);
    expect(deps.store.events.map((e) => e.type)).toContain('replicaExited');
    expect(removedEvents()).toEqual([]);
  });

  it('tells of a replica removed outside after a pass that removed another itself', async () => {
    const { deps, runtime, pass, removedEvents } = await world();
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await pass();
    await pass();
    await scaleApp(deps, 'acme', 'web', 1);
    await pass();
    const left = [...runtime.replicas.values()];
    expect(left.map((r) => r.slot)).toEqual([0]);
    runtime.replicas.clear();
    await pass();
    expect(removedEvents()).toEqual([
      expect.objectContaining({
        message: 'replica 0 is gone: it was removed outside Berth',
        details: { replica: left[0]?.id, revision: 1 },
      }),
    ]);
  });

  it('says nothing of what went while another reconciler held the app', async () => {
    const { deps, runtime, reconciler, reconcilerOf, pass, removedEvents } = await world();
    await createApp(deps, 'acme', WEB);
    await pass();
    await pass();
    const other = reconcilerOf('other');
    // The other one takes the app's lease while this one's is held: this one's pass is refused it.
    deps.clock.advance(5_000);
    await other.reconcileApp('acme', 'web');
    await reconciler.reconcileApp('acme', 'web');
    await other.releaseLeases();
    runtime.replicas.clear();
    await pass();
    expect(removedEvents()).toEqual([]);
  });
});
