import * as z from 'zod';
import { DnsLabel, displayName, Timestamp } from './common.ts';
import { Plan } from './plan.ts';

export const TenantStatus = z
  .enum(['active', 'suspended'])
  .describe(
    "`suspended` stops the tenant's apps (they show `suspended`) and refuses its writes, app deletions aside; " +
      '`active` starts them again.',
  );
export type TenantStatus = z.infer<typeof TenantStatus>;

export const TenantName = displayName(200, 'Acme');

export const Tenant = z
  .object({
    id: DnsLabel,
    name: z.string(),
    plan: DnsLabel,
    status: TenantStatus,
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Tenant' });
export type Tenant = z.infer<typeof Tenant>;

/** A tenant's id: a DNS label without `--`, which separates app from tenant in app hostnames. */
export const TenantId = DnsLabel.refine((id) => !id.includes('--'), {
  message: 'must not contain "--" (it separates app and tenant in app hostnames)',
}).meta({ description: 'A DNS label without "--": apps answer at <app>--<tenant>.<domain> in AWS mode.' });

export const TenantCreate = z
  .strictObject({
    id: TenantId,
    name: TenantName,
    plan: DnsLabel.describe('The id of the plan the tenant starts on (not an archived one).'),
  })
  .meta({ id: 'TenantCreate' });
export type TenantCreate = z.infer<typeof TenantCreate>;

export const TenantPatch = z
  .strictObject({
    name: TenantName.optional(),
    plan: DnsLabel.optional().describe('Moves the tenant to this plan (not an archived one).'),
    status: TenantStatus.optional(),
  })
  .meta({ id: 'TenantPatch' });
export type TenantPatch = z.infer<typeof TenantPatch>;

const UsageAgainstLimit = z.object({ used: z.number(), limit: z.number() });

/** What a tenant has reserved (desired replicas × size) against its plan's limits. */
export const TenantUsage = z
  .object({
    apps: UsageAgainstLimit,
    vcpu: UsageAgainstLimit,
    memoryMiB: UsageAgainstLimit,
    instancesPerApp: z.object({ limit: z.number() }),
    apiKeys: UsageAgainstLimit.describe('Keys the tenant holds, against what any tenant may hold.'),
    repositories: UsageAgainstLimit.describe(
      'Repositories the tenant keeps, against what any tenant may keep.',
    ),
    monthlyCap: z
      .object({
        period: z.string(),
        level: z.enum(['ok', 'warned', 'exceeded']),
        cost: z.string().describe('Month to date, dollars, as of the last meter run.'),
        instanceHours: z.number(),
      })
      .nullable()
      .describe("Month-to-date usage against the plan's monthly caps; null when the plan has none."),
  })
  .meta({ id: 'TenantUsage' });
export type TenantUsage = z.infer<typeof TenantUsage>;

export const TenantOverview = z
  .object({ tenant: Tenant, plan: Plan, usage: TenantUsage })
  .meta({ id: 'TenantOverview' });
export type TenantOverview = z.infer<typeof TenantOverview>;
