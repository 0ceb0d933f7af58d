import { expect, it } from 'vitest';
import { createApp, deleteApp } from '../../../functions/core/apps.ts';
import type { TrafficRouter } from '../../../functions/core/ports.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

it("routes an app's host to its serving replicas each pass, and takes the route away once the app is gone", async () => {
  const { deps, runtime, reconcilerOf } = await scriptedWorld();
  const routes = new Map<string, { host: string; port: number }[]>();
  const router: TrafficRouter = {
    route: async (tenantId, app, endpoints) => void routes.set(`${tenantId}/${app}`, endpoints),
    remove: async (tenantId, app) => void routes.delete(`${tenantId}/${app}`),
  };
  const reconciler = reconcilerOf('test', router);
  const pass = async () => {
    deps.clock.advance(1_000);
    await reconciler.reconcileApp('acme', 'web');
  };
  await createApp(deps, 'acme', { ...WEB, replicas: 2 });
  await pass();
  await pass();
  const endpoints = [...runtime.replicas.values()].map((r) => r.endpoint);
  expect(endpoints).toHaveLength(2);
  expect(routes.get('acme/web')).toHaveLength(2);
  expect(routes.get('acme/web')).toEqual(expect.arrayContaining(endpoints));

  await deleteApp(deps, 'acme', 'web');
  await pass();
  expect(await deps.store.getApp('acme', 'web')).toBeUndefined();
  expect(routes.has('acme/web')).toBe(false);
});
