import { expect, it } from 'vitest';
import { newTenantKey } from '../../functions/core/api-keys.ts';
import { createApp } from '../../functions/core/apps.ts';
import { codeUnitOrder } from '../../functions/core/code-unit-order.ts';
import { createPlan } from '../../functions/core/plans.ts';
import type { CoreDeps, RegistryDeps } from '../../functions/core/ports.ts';
import { createTenant, deleteTenant } from '../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import { tableCoreDeps } from '../support/table-core-deps.ts';

const PAGE = { limit: 100 };
const LIMITS = { apps: 5, instancesPerApp: 2, vcpu: 4, memoryMiB: 8192 };

/** The same records, each kind written in an order other than their ids' (the keys in its reverse). */
async function written(deps: RegistryDeps, keys: ReturnType<typeof newTenantKey>[]) {
  for (const id of ['team', 'basic', 'scale']) await createPlan(deps, { id, name: id, limits: LIMITS });
  for (const id of ['mid', 'zeta', 'alpha', 'gone', 'beta'])
    await createTenant(deps, { id, name: id, plan: 'pro' });
  const newestFirst = [...keys].sort((a, b) => codeUnitOrder(b.record.id, a.record.id));
  for (const { record } of newestFirst) await deps.store.createApiKey(record, 20);
  for (const name of ['web', 'api', 'docs', 'worker']) {
    await createApp(deps, 'mid', {
      name,
      image: 'registry.example.com/mid/web:1',
      cpu: 0.25,
      memory: 512,
      port: 8080,
    });
  }
  await deleteTenant(deps, 'gone');
}

/** What the store lists, in the order it lists it. */
async function listed({ store }: CoreDeps, keys: ReturnType<typeof newTenantKey>[]) {
  const shared = new Set(keys.map((k) => k.record.id));
  return {
    plans: (await store.listPlans(PAGE)).items.map((p) => p.id),
    tenants: (await store.listTenants(PAGE)).items.map((t) => t.id),
    billed: (await store.listBilledTenants(PAGE)).items.map((t) => t.id),
    // Those written in both (each tenant's first key is its store's own).
    keys: (await store.listApiKeys('mid', PAGE)).items.map((k) => k.id).filter((id) => shared.has(id)),
    apps: (await store.listApps('mid', PAGE)).items.map((a) => a.name),
  };
}

it("the core tests' in-memory store lists in the order DynamoDB Local lists the same items", async () => {
  const memory = await fakeCoreDeps();
  const dynamo = await tableCoreDeps();
  // Keys by hand, the same in both: their ids are made from the time and a random part.
  const at = memory.clock.now();
  const keys = [
    newTenantKey('mid', at),
    newTenantKey('mid', at),
    newTenantKey('mid', at),
    newTenantKey('mid', at),
  ];
  await written(memory, keys);
  await written(dynamo, keys);

  const real = await listed(dynamo, keys);
  expect(real.plans).toEqual(['basic', 'free', 'pro', 'scale', 'team']);
  expect(real.tenants).toEqual(['alpha', 'beta', 'mid', 'zeta']);
  expect(real.billed).toEqual(['alpha', 'beta', 'mid', 'zeta', 'gone']);
  expect(real.apps).toEqual(['api', 'docs', 'web', 'worker']);
  // Oldest first: a key's id begins with its time (here the same for all four, so their random parts order them).
  expect(real.keys).toEqual(keys.map((k) => k.record.id).sort(codeUnitOrder));
  expect(await listed(memory, keys)).toEqual(real);
});
