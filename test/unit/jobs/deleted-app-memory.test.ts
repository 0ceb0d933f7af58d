import { describe, expect, it } from 'vitest';
import { createApp, deleteApp } from '../../../functions/core/apps.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe("a deleted app, in the reconciler's memory", () => {
  it("is forgotten once its deletion ends: its replicas' health, probes and restarts", async () => {
    const { deps, runtime, reconcilerOf } = await scriptedWorld();
    const reconciler = reconcilerOf('test');
    const pass = async () => {
      deps.clock.advance(5_000);
      await reconciler.reconcileApp('acme', 'web');
    };
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await pass();
    runtime.crash(1);
    for (let i = 0; i < 4; i++) await pass();
    const replicas = [...runtime.replicas.values()];
    expect(replicas.map((r) => reconciler.replicaView(r))).toEqual([
      expect.objectContaining({ ready: true }),
      expect.objectContaining({ ready: true }),
    ]);
    expect(replicas.some((r) => reconciler.replicaView(r).restarts > 0)).toBe(true);

    await deleteApp(deps, 'acme', 'web');
    for (let i = 0; i < 3 && (await deps.store.getApp('acme', 'web')); i++) await pass();
    expect(await deps.store.getApp('acme', 'web')).toBeUndefined();
    expect(replicas.map((r) => reconciler.replicaView(r))).toEqual([
      { ready: false, unhealthy: false, restarts: 0 },
      { ready: false, unhealthy: false, restarts: 0 },
    ]);
  });
});
