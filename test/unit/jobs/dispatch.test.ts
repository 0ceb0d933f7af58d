import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import {
  DISPATCH_BATCH,
  dispatchReconciles,
  type ReconcileMessage,
} from '../../../functions/jobs/dispatch.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const APP = { image: 'registry.example.com/x/web:1', cpu: 0.25, memory: 512, port: 8080 } as const;

async function dispatched(workloadRuntimes: ReadonlySet<'eks'>, apps: Record<string, ('docker' | 'eks')[]>) {
  const deps = { ...(await fakeCoreDeps()), runtimes: ['docker', 'eks'] as const };
  for (const [tenant, runtimes] of Object.entries(apps)) {
    await createTenant(deps, { id: tenant, name: tenant, plan: 'pro' });
    for (const [i, runtime] of runtimes.entries()) {
      await createApp(deps, tenant, { name: `app-${i}`, runtime, ...APP });
    }
  }
  const batches: ReconcileMessage[][] = [];
  const sent = await dispatchReconciles(
    deps.store,
    workloadRuntimes,
    async (batch) => void batches.push(batch),
  );
  const keys = batches
    .flat()
    .map((m) => ('app' in m ? `${m.tenantId}/${m.app}` : `${m.tenantId}:${m.workloads}`));
  return { sent, batches, keys: keys.sort() };
}

describe('dispatchReconciles', () => {
  it('sends one message per app of every tenant, in batches of at most 10', async () => {
    const twelve = Array.from({ length: 12 }, () => 'docker' as const);
    const { sent, batches, keys } = await dispatched(new Set(), { acme: twelve, beta: twelve });
    expect(sent).toBe(24);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 4]);
    expect(batches.every((b) => b.length <= DISPATCH_BATCH)).toBe(true);
    expect(keys).toEqual(
      ['acme', 'beta'].flatMap((t) => Array.from({ length: 12 }, (_, i) => `${t}/app-${i}`)).sort(),
    );
  });

  it('sends one message per tenant for all its apps on a workload runtime, and app messages for the rest', async () => {
    const { sent, keys } = await dispatched(new Set(['eks']), {
      acme: ['eks', 'docker', 'eks', 'eks'],
      beta: ['eks', 'eks'],
      gamma: ['docker'],
    });
    expect(keys).toEqual(['acme/app-1', 'acme:eks', 'beta:eks', 'gamma/app-0']);
    expect(sent).toBe(4);
  });
});
