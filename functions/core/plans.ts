import type { Page } from '../../schemas/common.ts';
import { Plan, type PlanCreate, PlanLimits, type PlanPatch, SEED_PLANS } from '../../schemas/plan.ts';
import { isDomainError, NotFoundError } from './errors.ts';
import type { CoreDeps, PageRequest } from './ports.ts';
import { sameValue } from './same-value.ts';
import { inSchemaOrder } from './schema-order.ts';
import { assertVersion, type IfMatch, withOptimisticRetry } from './versioning.ts';

/** The API view of a plan: its fields in the schema's order, whatever order the store keeps. */
export const toPlan = (plan: Plan): Plan => inSchemaOrder(Plan, plan);

/** Creates a plan; ConflictError('plan.exists') when the id is taken. */
export async function createPlan(deps: Pick<CoreDeps, 'store' | 'clock'>, input: PlanCreate): Promise<Plan> {
  const now = deps.clock.now().toISOString();
  const plan: Plan = { ...input, archived: false, version: 1, createdAt: now, updatedAt: now };
  await deps.store.createPlan(plan);
  return toPlan(plan);
}

export async function getPlan(deps: CoreDeps, id: string): Promise<Plan> {
  const plan = await deps.store.getPlan(id);
  if (!plan) throw new NotFoundError('plan.notFound', `plan "${id}" does not exist`);
  return toPlan(plan);
}

export async function listPlans(deps: CoreDeps, page: PageRequest): Promise<Page<Plan>> {
  const plans = await deps.store.listPlans(page);
  return { items: plans.items.map(toPlan), nextCursor: plans.nextCursor };
}

/**
 * Changes a plan's name, limits (a monthly cap set to null is removed) or whether it is archived (a patch that
 * changes nothing writes nothing); lowered limits never stop running apps, they only refuse growth; archiving keeps
 * the plan's tenants on it.
 */
export function updatePlan(deps: CoreDeps, id: string, patch: PlanPatch, ifMatch?: IfMatch): Promise<Plan> {
  return withOptimisticRetry(async () => {
    const plan = await getPlan(deps, id);
    assertVersion(ifMatch, plan.version);
    const name = patch.name ?? plan.name;
    const merged = Object.entries({ ...plan.limits, ...patch.limits }).filter(([, value]) => value !== null);
    const limits = PlanLimits.parse(Object.fromEntries(merged));
    const archived = patch.archived ?? plan.archived;
    if (name === plan.name && archived === plan.archived && sameValue(limits, plan.limits)) {
      return plan; // nothing to write
    }
    const next: Plan = {
      ...plan,
      name,
      limits,
      archived,
      version: plan.version + 1,
      updatedAt: deps.clock.now().toISOString(),
    };
    await deps.store.updatePlan(next, plan.version);
    return toPlan(next);
  });
}

/** Creates the `free` and `pro` plans unless they exist. */
export async function seedPlans(deps: Pick<CoreDeps, 'store' | 'clock'>): Promise<void> {
  for (const plan of SEED_PLANS) {
    try {
      await createPlan(deps, plan);
    } catch (err) {
      if (!isDomainError(err, 'plan.exists')) throw err;
    }
  }
}
