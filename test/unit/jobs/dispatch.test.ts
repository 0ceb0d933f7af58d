import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { DISPATCH_BATCH, dispatchReconciles, type QueueMessage } from '../../../functions/jobs/dispatch.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

const APP = { image: 'registry.example.com/x/web:1', cpu: 0.25, memory: 512, port: 8080 } as const;

async function dispatched(apps: Record<string, ('fargate' | 'eks')[]>) {
  const deps = { ...(await fakeCoreDeps()), runtimes: ['fargate', 'eks'] as const };
  for (const [tenant, runtimes] of Object.entries(apps)) {
    await createTenant(deps, { id: tenant, name: tenant, plan: 'pro' });
    for (const [i, runtime] of runtimes.entries()) {
      await createApp(deps, tenant, { name: `app-${i}`, runtime, ...APP });
    }
  }
  const reads = overlapCounter(deps.store.listApps.bind(deps.store));
  deps.store.listApps = reads.call;
  const batches: QueueMessage[][] = [];
  const sent = await dispatchReconciles(deps.store, async (batch) => void batches.push(batch), deps.runtimes);
  return { sent, batches, mostTenantsRead: reads.most };
}

describe('dispatchReconciles', () => {
  it('sends one message per tenant and runtime its apps use, however many apps, and a sweep per runtime', async () => {
    const { sent, batches } = await dispatched({
      acme: ['eks', 'fargate', 'eks', 'eks', 'fargate'],
      beta: ['eks', 'eks'],
      gamma: ['fargate'],
      idle: [],
    });
    expect(
      batches
        .flat()
        .map((m) => ('sweep' in m ? `sweep:${m.sweep}` : `${m.tenantId}:${m.runtime}`))
        .sort(),
    ).toEqual(['acme:eks', 'acme:fargate', 'beta:eks', 'gamma:fargate', 'sweep:eks', 'sweep:fargate']);
    expect(sent).toBe(6);
  });

  it('reads eight tenants at once and sends in batches of at most 10', async () => {
    const tenants = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`t${i}`, ['fargate', 'eks'] as ('fargate' | 'eks')[]]),
    );
    const { sent, batches, mostTenantsRead } = await dispatched(tenants);
    expect(mostTenantsRead).toBe(8);
    expect(sent).toBe(26);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 6]);
    expect(batches.every((b) => b.length <= DISPATCH_BATCH)).toBe(true);
  });
});
