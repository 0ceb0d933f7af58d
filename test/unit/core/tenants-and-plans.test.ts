import { describe, expect, it } from 'vitest';
import { getPlan, updatePlan } from '../../../functions/core/plans.ts';
import { createRepository } from '../../../functions/core/repositories.ts';
import {
  createTenant,
  deleteTenant,
  getTenantRecord,
  updateTenant,
} from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

describe('tenants and plans', () => {
  it('write nothing for a patch that changes nothing, so their versions (and ETags) stay', async () => {
    const deps = await fakeCoreDeps();
    const { tenant } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    deps.clock.advance(1000);
    expect(await updateTenant(deps, 'acme', {}, [tenant.version])).toEqual(tenant);
    expect(await updateTenant(deps, 'acme', { name: 'Acme', plan: 'free', status: 'active' })).toEqual(
      tenant,
    );
    expect(await updateTenant(deps, 'acme', { name: 'Acme Inc.' })).toMatchObject({
      version: tenant.version + 1,
    });

    const free = await getPlan(deps, 'free');
    expect(await updatePlan(deps, 'free', {}, [free.version])).toEqual(free);
    expect(await updatePlan(deps, 'free', { limits: { apps: free.limits.apps } })).toEqual(free);
    expect(await updatePlan(deps, 'free', { limits: { apps: free.limits.apps + 1 } })).toMatchObject({
      version: free.version + 1,
    });
    expect((await getTenantRecord(deps, 'acme')).version).toBe(tenant.version + 1);
  });

  it('sets a monthly cap on a plan, keeps it through other changes, and removes it when given null', async () => {
    const deps = await fakeCoreDeps();
    const capped = await updatePlan(deps, 'pro', {
      limits: { maxMonthlyCost: 25, maxMonthlyInstanceHours: 100 },
    });
    expect(capped.limits).toMatchObject({ maxMonthlyCost: 25, maxMonthlyInstanceHours: 100 });
    expect((await updatePlan(deps, 'pro', { limits: { apps: 60 } })).limits).toMatchObject({
      apps: 60,
      maxMonthlyCost: 25,
    });
    const uncapped = await updatePlan(deps, 'pro', { limits: { maxMonthlyCost: null } });
    expect(uncapped.limits).not.toHaveProperty('maxMonthlyCost');
    expect(uncapped.limits.maxMonthlyInstanceHours).toBe(100);
    // Removing what is not there changes nothing.
    expect(await updatePlan(deps, 'pro', { limits: { maxMonthlyCost: null } })).toEqual(uncapped);
  });

  it("deletes a tenant's repositories eight at a time", async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    for (let i = 0; i < 20; i++) await createRepository(deps, 'acme', `repo-${i}`);
    const deletes = overlapCounter(deps.registry.deleteRepository.bind(deps.registry));
    deps.registry.deleteRepository = deletes.call;
    await deleteTenant(deps, 'acme');
    expect(deletes.most).toBe(8);
    expect(await deps.store.listRepositories('acme')).toEqual([]);
    await expect(getTenantRecord(deps, 'acme')).rejects.toMatchObject({ code: 'tenant.notFound' });
  });
});
