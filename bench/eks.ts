import { createApp } from '../functions/core/apps.ts';
import { createTenant } from '../functions/core/tenants.ts';
import { startFakeKubeApi } from '../test/fakes/fake-kube-api.ts';
import { eksWorld } from '../test/support/eks-world.ts';
import { ms } from './stats.ts';

const TENANTS = 10;
const APPS_PER_TENANT = 10;

/**
 * `npm run bench -- eks`: one reconcile of 100 apps (10 tenants × 10) against the in-process fake API server — the
 * first pass, which applies everything, and a steady tick — with the API calls per app per tick, next to the
 * baseline of listing pods once per app, measured in the same run.
 */
export async function benchEks() {
  const api = await startFakeKubeApi();
  try {
    const { deps, kube, reconciler } = await eksWorld(api);
    const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
    for (const id of tenants) {
      await createTenant(deps, { id, name: id, plan: 'pro' });
      for (let a = 0; a < APPS_PER_TENANT; a++) {
        await createApp(deps, id, {
          name: `app-${a}`,
          image: 'registry.example.com/bench/web:1',
          cpu: 0.25,
          memory: 512,
          port: 8080,
          runtime: 'eks',
          replicas: 2,
        });
      }
    }
    const apps = TENANTS * APPS_PER_TENANT;
    const tick = async () => {
      const before = api.requests.length;
      const started = performance.now();
      for (const id of tenants) await reconciler.reconcileTenant(id);
      const elapsed = performance.now() - started;
      deps.clock.advance(11_000); // the next tick: leases free again
      return { elapsed, calls: api.requests.length - before };
    };
    const first = await tick();
    await tick(); // deployments succeed
    const steady = await tick();

    const before = api.requests.length;
    const started = performance.now();
    for (const id of tenants) {
      for (let a = 0; a < APPS_PER_TENANT; a++) await kube.pods(`berth-${id}`);
    }
    const perApp = { elapsed: performance.now() - started, calls: api.requests.length - before };

    console.log(
      `reconcile of ${apps} apps in ${TENANTS} namespaces against the fake API server (TLS, in process):`,
    );
    console.log(
      `  first pass (namespaces + every app applied): ${ms(first.elapsed)}, ${first.calls} API calls`,
    );
    console.log(
      `  steady tick: ${ms(steady.elapsed)}, ${steady.calls} API calls = ${(steady.calls / apps).toFixed(2)} per app (${steady.calls / TENANTS} per namespace)`,
    );
    console.log(
      `  baseline, one pod list per app: ${ms(perApp.elapsed)}, ${perApp.calls} API calls = ${(perApp.calls / apps).toFixed(2)} per app`,
    );
  } finally {
    await api.close();
  }
}
