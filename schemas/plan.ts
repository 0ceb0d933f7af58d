import * as z from 'zod';
import { DnsLabel, displayName, Timestamp } from './common.ts';

const MonthlyCost = z
  .number()
  .min(0)
  .max(10_000_000)
  .multipleOf(0.01)
  .describe('Dollars per calendar month; at 80 % the tenant is warned, at 100 % scale-outs are refused.');
const MonthlyInstanceHours = z
  .number()
  .int()
  .min(0)
  .max(10_000_000)
  .describe('Instance-hours per calendar month, with the same 80 % warning and 100 % refusal.');

export const PlanLimits = z
  .strictObject({
    apps: z.number().int().min(0).max(10_000).describe('Apps a tenant may have.'),
    instancesPerApp: z.number().int().min(0).max(1_000).describe('Replicas one app may run.'),
    vcpu: z.number().min(0).max(100_000).multipleOf(0.25).describe('Total vCPU across all desired replicas.'),
    memoryMiB: z.number().int().min(0).max(100_000_000).describe('Total MiB across all desired replicas.'),
    maxMonthlyCost: MonthlyCost.optional(),
    maxMonthlyInstanceHours: MonthlyInstanceHours.optional(),
  })
  .meta({ id: 'PlanLimits' });
export type PlanLimits = z.infer<typeof PlanLimits>;

const Archived = z
  .boolean()
  .describe(
    'An archived plan keeps its tenants but takes no new ones; `PATCH {archived: false}` offers it again.',
  );

export const Plan = z
  .object({
    id: DnsLabel,
    name: z.string(),
    limits: PlanLimits,
    archived: Archived,
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Plan' });
export type Plan = z.infer<typeof Plan>;

export const PlanName = displayName(100, 'Pro');

export const PlanCreate = z
  .strictObject({
    id: DnsLabel.describe("The plan's id, which tenants' `plan` names; it never changes."),
    name: PlanName,
    limits: PlanLimits,
  })
  .meta({ id: 'PlanCreate' });
export type PlanCreate = z.infer<typeof PlanCreate>;

/** Limits to change; a monthly cap given as null is removed. */
const PlanLimitsPatch = PlanLimits.partial().extend({
  maxMonthlyCost: MonthlyCost.nullable().optional(),
  maxMonthlyInstanceHours: MonthlyInstanceHours.nullable().optional(),
});

export const PlanPatch = z
  .strictObject({
    name: PlanName.optional(),
    limits: PlanLimitsPatch.optional().describe(
      'The limits to change; a monthly cap given as null is removed.',
    ),
    archived: Archived.optional(),
  })
  .meta({ id: 'PlanPatch' });
export type PlanPatch = z.infer<typeof PlanPatch>;

/** The plans every install starts with. */
export const SEED_PLANS: readonly PlanCreate[] = [
  { id: 'free', name: 'Free', limits: { apps: 3, instancesPerApp: 2, vcpu: 1, memoryMiB: 2048 } },
  { id: 'pro', name: 'Pro', limits: { apps: 50, instancesPerApp: 20, vcpu: 64, memoryMiB: 131072 } },
];
