import { describe, expect, it } from 'vitest';
import { WriteConflictError } from '../../../functions/core/errors.ts';
import { getPlan, seedPlans, updatePlan } from '../../../functions/core/plans.ts';
import { createRepository } from '../../../functions/core/repositories.ts';
import {
  createTenant,
  deleteTenant,
  getTenantRecord,
  updateTenant,
} from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { beforeNextCall } from '../../support/before-next-call.ts';
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

  it('seeds the starting plans again at each local start, leaving them as edited, and fails one the table fails', async () => {
    const deps = await fakeCoreDeps(); // seeded once
    const edited = await updatePlan(deps, 'free', { limits: { apps: 7 } });
    await seedPlans(deps);
    expect(await getPlan(deps, 'free')).toEqual(edited);
    beforeNextCall(deps.store, 'createPlan', async () => {
      throw new Error('the table is not there');
    });
    await expect(seedPlans(deps)).rejects.toThrow('the table is not there');
  });

  it('gives deployments a new deadline from a reactivation only, not from any other change of the tenant', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const resumedAt = async () => (await getTenantRecord(deps, 'acme')).resumedAt;
    await updateTenant(deps, 'acme', { name: 'Acme Inc.', plan: 'free' });
    expect(await resumedAt()).toBeUndefined();
    await updateTenant(deps, 'acme', { status: 'suspended' });
    deps.clock.advance(1000);
    await updateTenant(deps, 'acme', { name: 'Acme' });
    expect(await resumedAt()).toBeUndefined();
    deps.clock.advance(1000);
    const reactivated = await updateTenant(deps, 'acme', { status: 'active' });
    expect(await resumedAt()).toBe(reactivated.updatedAt);
    deps.clock.advance(1000);
    await updateTenant(deps, 'acme', { plan: 'pro' });
    expect(await resumedAt()).toBe(reactivated.updatedAt);
  });

  it("moves the tenant's version with the suspension a deletion begins with, so an ETag from before it is stale", async () => {
    const deps = await fakeCoreDeps();
    const { tenant } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    await createRepository(deps, 'acme', 'web');
    deps.registry.deleteRepository = async () => {
      throw new Error('the registry did not answer');
    };
    await expect(deleteTenant(deps, 'acme')).rejects.toThrow('the registry did not answer');
    expect(await getTenantRecord(deps, 'acme')).toMatchObject({
      status: 'suspended',
      version: tenant.version + 1,
    });
    await expect(updateTenant(deps, 'acme', { status: 'active' }, [tenant.version])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
  });

  it("holds a deletion's If-Match through its own suspension of the tenant: a race after it is retried, not 412", async () => {
    const deps = await fakeCoreDeps();
    const { tenant } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    beforeNextCall(deps.store, 'deleteTenant', async () => {
      throw new WriteConflictError(); // a key created meanwhile, past the store's own tries
    });
    await deleteTenant(deps, 'acme', [tenant.version]);
    await expect(getTenantRecord(deps, 'acme')).rejects.toMatchObject({ code: 'tenant.notFound' });
  });

  it('refuses a deletion whose If-Match another change moved past, after its own suspension', async () => {
    const deps = await fakeCoreDeps();
    const { tenant } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    beforeNextCall(deps.store, 'deleteTenant', () => updateTenant(deps, 'acme', { name: 'Acme Inc.' }));
    await expect(deleteTenant(deps, 'acme', [tenant.version])).rejects.toMatchObject({
      code: 'precondition.failed',
    });
    expect(await getTenantRecord(deps, 'acme')).toMatchObject({ name: 'Acme Inc.', status: 'suspended' });
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
