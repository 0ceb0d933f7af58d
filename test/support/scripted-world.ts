import type { HealthProbe, TrafficRouter } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { Reconciler } from '../../functions/jobs/reconcile.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import { ScriptedRuntime } from '../fakes/scripted-runtime.ts';

const NO_ROUTES: TrafficRouter = { route: async () => {}, remove: async () => {} };

/**
 * Fake core deps with tenant acme, a scripted runtime, and local reconcilers over them by owner: every replica answers
 * its probes (unless `probe` says otherwise), traffic goes to `router` (nowhere by default), no image needs the
 * platform's registry, and a stop takes no grace.
 */
export async function scriptedWorld(probe: HealthProbe = { probe: async () => ({ ok: true }) }) {
  const deps = await fakeCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  const runtime = new ScriptedRuntime(() => deps.clock.now());
  const reconcilerOf = (owner: string, router = NO_ROUTES) =>
    new Reconciler({
      ...deps,
      runtime,
      probe,
      router,
      pullOf: (_tenantId, image) => ({ image }),
      owner,
      deploymentDeadlineMs: 600_000,
      stopGraceSeconds: 0,
    });
  return { deps, runtime, reconcilerOf };
}
