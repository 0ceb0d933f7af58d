import type { TenantCreated } from '../../schemas/api-key.ts';
import type { Page } from '../../schemas/common.ts';
import type { Plan } from '../../schemas/plan.ts';
import { Tenant, type TenantCreate, type TenantOverview, type TenantPatch } from '../../schemas/tenant.ts';
import { newTenantKey } from './api-keys.ts';
import {
  ForbiddenError,
  NotFoundError,
  TenantHasAppsError,
  TenantNotFoundError,
  ValidationError,
} from './errors.ts';
import { mapWithLimit } from './map-with-limit.ts';
import { toPlan } from './plans.ts';
import type { CoreDeps, PageRequest, RegistryDeps, TenantRecord } from './ports.ts';
import { NO_RESERVATION } from './quota.ts';
import { inSchemaOrder } from './schema-order.ts';
import { MAX_KEYS_PER_TENANT, MAX_REPOSITORIES_PER_TENANT } from './tenant-caps.ts';
import { monthlyCapView } from './usage-caps.ts';
import { assertVersion, type IfMatch, withOptimisticRetry } from './versioning.ts';
import { allApps } from './walk.ts';

function toTenant({ reserved: _reserved, ...tenant }: TenantRecord): Tenant {
  return inSchemaOrder(Tenant, tenant);
}

/** The plan a tenant is created on or moved to: one that exists and is not archived (400 otherwise). */
async function planForTenant(deps: CoreDeps, planId: string): Promise<Plan> {
  const plan = await deps.store.getPlan(planId);
  if (!plan) {
    throw new ValidationError(`plan "${planId}" does not exist; GET /v1/plans lists the plans`, [
      { path: 'plan', message: `unknown plan "${planId}"` },
    ]);
  }
  if (plan.archived) {
    throw new ValidationError(`plan "${planId}" is archived: it keeps its tenants but takes no new ones`, [
      { path: 'plan', message: `plan "${planId}" is archived` },
    ]);
  }
  return plan;
}

export async function getTenantRecord(deps: CoreDeps, id: string): Promise<TenantRecord> {
  const tenant = await deps.store.getTenant(id);
  if (!tenant) throw new TenantNotFoundError(id);
  return tenant;
}

/** Refuses writes of a suspended tenant (403 tenant.suspended). */
export async function getActiveTenant(deps: CoreDeps, id: string): Promise<TenantRecord> {
  const tenant = await getTenantRecord(deps, id);
  if (tenant.status !== 'active') {
    throw new ForbiddenError(
      'tenant.suspended',
      `tenant "${id}" is suspended; its writes are refused until an admin reactivates it`,
    );
  }
  return tenant;
}

/** Creates a tenant together with its first key, whose secret is returned only here. */
export async function createTenant(deps: CoreDeps, input: TenantCreate): Promise<TenantCreated> {
  await planForTenant(deps, input.plan);
  const now = deps.clock.now();
  const tenant: TenantRecord = {
    ...input,
    status: 'active',
    version: 1,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    reserved: NO_RESERVATION,
  };
  const key = newTenantKey(tenant.id, now);
  await deps.store.createTenant(tenant, key.record);
  return { tenant: toTenant(tenant), apiKey: key.created };
}

/** A tenant with its plan, what it reserves against the plan's limits, and its keys and repositories. */
export async function getTenantOverview(deps: CoreDeps, id: string): Promise<TenantOverview> {
  const tenant = await getTenantRecord(deps, id);
  const [plan, keys, repositories] = await Promise.all([
    deps.store.getPlan(tenant.plan),
    deps.store.listApiKeys(id, { limit: 100 }),
    deps.store.listRepositories(id),
  ]);
  if (!plan)
    throw new NotFoundError('plan.notFound', `plan "${tenant.plan}" of tenant "${id}" does not exist`);
  return {
    tenant: toTenant(tenant),
    plan: toPlan(plan),
    usage: {
      apps: { used: tenant.reserved.apps, limit: plan.limits.apps },
      vcpu: { used: tenant.reserved.vcpuMilli / 1000, limit: plan.limits.vcpu },
      memoryMiB: { used: tenant.reserved.memoryMiB, limit: plan.limits.memoryMiB },
      instancesPerApp: { limit: plan.limits.instancesPerApp },
      apiKeys: { used: keys.items.length, limit: MAX_KEYS_PER_TENANT },
      repositories: { used: repositories.length, limit: MAX_REPOSITORIES_PER_TENANT },
      monthlyCap: await monthlyCapView(deps, id, plan.limits),
    },
  };
}

export async function listTenants(deps: CoreDeps, page: PageRequest): Promise<Page<Tenant>> {
  const tenants = await deps.store.listTenants(page);
  return { items: tenants.items.map(toTenant), nextCursor: tenants.nextCursor };
}

/**
 * Changes a tenant (a patch that changes nothing writes nothing). Suspending it stops its apps' replicas and
 * reactivating it starts them again, both at the next reconcile pass, which the change asks for at once.
 */
export async function updateTenant(
  deps: CoreDeps,
  id: string,
  patch: TenantPatch,
  ifMatch?: IfMatch,
): Promise<Tenant> {
  const { before, after } = await withOptimisticRetry(async () => {
    const tenant = await getTenantRecord(deps, id);
    assertVersion(ifMatch, tenant.version);
    // A tenant on an archived plan stays there; only a move to another plan asks whether that one takes tenants.
    if (patch.plan !== undefined && patch.plan !== tenant.plan) await planForTenant(deps, patch.plan);
    const name = patch.name ?? tenant.name;
    const plan = patch.plan ?? tenant.plan;
    const status = patch.status ?? tenant.status;
    if (name === tenant.name && plan === tenant.plan && status === tenant.status) {
      return { before: tenant, after: tenant }; // nothing to write
    }
    const now = deps.clock.now().toISOString();
    const next: TenantRecord = { ...tenant, name, plan, status, version: tenant.version + 1, updatedAt: now };
    // Deployments that waited through the suspension get their full deadline from here.
    if (tenant.status === 'suspended' && next.status === 'active') next.resumedAt = now;
    await deps.store.updateTenant(next, tenant.version);
    return { before: tenant, after: next };
  });
  if (before.status !== after.status) {
    for await (const app of allApps(deps.store, id)) deps.appChanged?.(app);
  }
  return toTenant(after);
}

/** Repositories a tenant's deletion deletes at once. */
const REPOSITORIES_DELETED_AT_ONCE = 8;

/**
 * Deletes a tenant with its keys and its repositories (images included); 409 tenant.hasApps while it has apps. The
 * tenant is suspended first, so nothing new is created while its repositories go; should that fail part-way, it
 * stays suspended and deleting it again finishes the job. `ifMatch` is checked against each read of the tenant, the
 * suspension this deletion wrote standing for the version it names. Returns the hashes of the keys that went with it.
 */
export function deleteTenant(deps: RegistryDeps, id: string, ifMatch?: IfMatch): Promise<string[]> {
  let held = ifMatch;
  return withOptimisticRetry(async () => {
    let tenant = await getTenantRecord(deps, id);
    assertVersion(held, tenant.version);
    if (tenant.reserved.apps > 0) throw new TenantHasAppsError(id, tenant.reserved.apps);
    if (tenant.status !== 'suspended') {
      const suspended: TenantRecord = {
        ...tenant,
        status: 'suspended',
        version: tenant.version + 1,
        updatedAt: deps.clock.now().toISOString(),
      };
      await deps.store.updateTenant(suspended, tenant.version);
      tenant = suspended;
      if (held) held = [suspended.version];
    }
    // Its records, pending ones included: a repository whose create stopped part-way may exist in the registry.
    // A few at once: one by one, a tenant's hundred ECR repositories outlast the API's 30 s.
    await mapWithLimit(await deps.store.listRepositories(id), REPOSITORIES_DELETED_AT_ONCE, (repository) =>
      deps.registry.deleteRepository(id, repository.name),
    );
    return deps.store.deleteTenant(tenant, deps.clock.now().toISOString());
  });
}
