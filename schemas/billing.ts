import * as z from 'zod';
import { DnsLabel, Timestamp } from './common.ts';

/** Fargate's minimum billed life of a task, which the meter keeps short-lived replicas' shortfall of (metering.ts). */
export const MINIMUM_INSTANCE_SECONDS = 60;

/**
 * Prices in integer micro-dollars, so amounts never drift. The default is AWS Fargate's us-east-1 Linux/x86 list
 * price; Fargate bills each task for at least one minute, which `minimumSecondsPerInstance: 60` reproduces.
 */
export const PriceTable = z
  .strictObject({
    version: z.string().min(1).max(64),
    currency: z.literal('USD').default('USD'),
    vcpuHourMicroUsd: z.number().int().min(0).describe('Per vCPU-hour, in millionths of a dollar.'),
    gbHourMicroUsd: z.number().int().min(0).describe('Per GB-hour of memory (GB = 1024 MiB, as Fargate).'),
    // No other minimum: the meter keeps the shortfall of that one. A union, not z.literal([0, 60]), which the
    // document generator renders as its first value alone.
    minimumSecondsPerInstance: z
      .union([z.literal(0), z.literal(MINIMUM_INSTANCE_SECONDS)], {
        error: "must be 0 (none) or 60 (Fargate's 1-minute minimum per instance)",
      })
      .default(0)
      .describe('0, or 60 to bill each replica for at least a minute, as Fargate bills a task.'),
  })
  .meta({
    id: 'PriceTable',
    description:
      'Prices in millionths of a dollar. A month is billed by one table, the one in force as it began: a table' +
      ' deployed during a month applies from the next.',
  });
export type PriceTable = z.infer<typeof PriceTable>;

export const DEFAULT_PRICE_TABLE: PriceTable = {
  version: 'fargate-us-east-1-linux-x86-2026-11',
  currency: 'USD',
  vcpuHourMicroUsd: 40_480,
  gbHourMicroUsd: 4_445,
  minimumSecondsPerInstance: 0,
};

export const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM')
  .describe('A calendar month (UTC), YYYY-MM.');

const Money = {
  costMicroUsd: z.number().int().describe('Millionths of a dollar.'),
  cost: z.string().describe('Dollars as an exact decimal string, e.g. "12.345678".'),
};

/**
 * What a report bills: the seconds replicas lived, and with the price table's minimum the seconds that bring each
 * shorter-lived replica up to it — more than the usage rows' seconds (lived only) then, whose costs include them too.
 */
const BILLED = "with the price table's minimumSecondsPerInstance, each replica counts at least that long";
const Quantities = {
  vcpuSeconds: z.number().describe(`Σ vCPU × seconds billed (${BILLED}).`),
  memoryGiBSeconds: z.number().describe(`Σ GiB × seconds billed (${BILLED}).`),
  instanceSeconds: z.number().int().describe(`Σ seconds billed (${BILLED}).`),
};

export const BillingLineItem = z
  .object({ app: DnsLabel, ...Quantities, ...Money })
  .meta({ id: 'BillingLineItem' });
export type BillingLineItem = z.infer<typeof BillingLineItem>;

export const BillingReport = z
  .object({
    tenant: DnsLabel,
    period: Period,
    status: z
      .enum(['draft', 'final'])
      .describe(
        'final once the report job has built it three days after the month ended: it never changes. A draft may.',
      ),
    priceTable: PriceTable,
    lineItems: z
      .array(BillingLineItem)
      .describe('One per app that billed anything in the month, in name order.'),
    total: z.object({ ...Quantities, ...Money }),
    generatedAt: Timestamp,
  })
  .meta({ id: 'BillingReport' });
export type BillingReport = z.infer<typeof BillingReport>;

export const BillingReportList = z
  .object({ period: Period, reports: z.array(BillingReport), nextCursor: z.string().nullable() })
  .meta({
    id: 'BillingReportList',
    description:
      "One page of every tenant's reports, in tenant order; pass nextCursor as ?cursor= for the next one.",
  });
