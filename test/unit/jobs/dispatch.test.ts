import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { type AppRef, DISPATCH_BATCH, dispatchReconciles } from '../../../functions/jobs/dispatch.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

describe('dispatchReconciles', () => {
  it('sends one message per app of every tenant, in batches of at most 10', async () => {
    const deps = await fakeCoreDeps();
    const expected: string[] = [];
    for (const tenant of ['acme', 'beta']) {
      await createTenant(deps, { id: tenant, name: tenant, plan: 'pro' });
      for (let i = 0; i < 12; i++) {
        const name = `app-${i}`;
        await createApp(deps, tenant, {
          name,
          image: 'registry.example.com/x/web:1',
          cpu: 0.25,
          memory: 512,
          port: 8080,
        });
        expected.push(`${tenant}/${name}`);
      }
    }
    const batches: AppRef[][] = [];
    expect(await dispatchReconciles(deps.store, async (batch) => void batches.push(batch))).toBe(24);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 4]);
    expect(batches.every((b) => b.length <= DISPATCH_BATCH)).toBe(true);
    expect(
      batches
        .flat()
        .map((r) => `${r.tenantId}/${r.app}`)
        .sort(),
    ).toEqual(expected.sort());
  });
});
