import * as z from 'zod';
import { DnsLabel, QueryInstant, Timestamp, wholeNumber } from './common.ts';

export const Granularity = z.enum(['hour', 'day']);
export type Granularity = z.infer<typeof Granularity>;

/** How long a span of usage one query may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;

/** Rows a page of usage holds at most: about 170 KB of JSON, far below what any gateway carries. */
const MAX_USAGE_ROWS = 1000;

export const UsageQuery = z.object({
  from: QueryInstant.optional().describe(
    'Start (inclusive; a date is its midnight UTC); default: the start of the current month (UTC). Before `to`, ' +
      `at most ${MAX_USAGE_RANGE_DAYS} days before it. Usage is kept by the UTC hour: a start within an hour takes ` +
      'in the whole hour (the answer says so).',
  ),
  to: QueryInstant.optional().describe(
    'End (exclusive; a date is its midnight UTC); default: now. An end within an hour takes in the whole hour.',
  ),
  granularity: Granularity.default('day').describe('One row per app and UTC hour or day.'),
  app: DnsLabel.optional().describe(
    "Only this app's rows: an app's usage outlives it, so a deleted app's name still finds its rows, and a name " +
      'with no usage in the range none.',
  ),
  limit: wholeNumber(1, MAX_USAGE_ROWS)
    .default(MAX_USAGE_ROWS)
    .describe(`Rows per page (by default and at most ${MAX_USAGE_ROWS}).`),
  cursor: z.string().min(1).max(2048).optional().describe('The nextCursor of the page before.'),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageRow = z
  .object({
    start: Timestamp.describe(
      "The start of the hour or day the row sums; of a day that begins before the answer's from, from.",
    ),
    end: Timestamp.describe(
      "The end of the hour or day the row sums; of a day that ends after the answer's to, to.",
    ),
    app: DnsLabel,
    vcpuSeconds: z.number().describe('Σ vCPU × seconds each replica lived.'),
    memoryGiBSeconds: z.number().describe('Σ GiB × seconds each replica lived.'),
    instanceSeconds: z.number().int().describe('Σ seconds each replica lived.'),
    cost: z
      .string()
      .describe(
        "Dollars, exact decimal, by the price table of the row's month (with its 1-minute minimum when it has one).",
      ),
  })
  .meta({ id: 'UsageRow' });
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageReport = z
  .object({
    tenant: DnsLabel,
    from: Timestamp.describe('The start asked for, on the hour: usage is kept by the UTC hour.'),
    to: Timestamp.describe('The end asked for, on the hour (the next hour for one within an hour).'),
    granularity: Granularity,
    rows: z
      .array(UsageRow)
      .describe(
        'One per app and hour or day it billed anything in: a replica that lived 0 s bills nothing, but with the ' +
          "price table's minimum.",
      ),
    nextCursor: z
      .string()
      .nullable()
      .describe(
        'Pass as ?cursor=, with the same from, to, granularity and app, for the next rows; null on the last page.',
      ),
  })
  .meta({ id: 'UsageReport' });
export type UsageReport = z.infer<typeof UsageReport>;
