import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import * as z from 'zod';
import { BillingReport, BillingReportList, Period } from '../../../schemas/billing.ts';
import { ListQuery } from '../../../schemas/common.ts';
import { UsageQuery, UsageReport } from '../../../schemas/usage.ts';
import { getReport, listReports } from '../../core/billing.ts';
import { reportsCsv } from '../../core/billing-csv.ts';
import { getUsage } from '../../core/usage.ts';
import { type ApiDeps, type ApiEnv, tenantOf } from '../context.ts';
import { apiRoute, bearer, json } from '../openapi.ts';
import { tenantOnly } from './apps.ts';
import { router } from './router.ts';

const tags = ['Billing'];

/**
 * Whether Accept prefers CSV to JSON (RFC 9110 §12.5.1): by its q-values, `q=0` refusing, case-insensitive, `text/*`
 * naming CSV; JSON where both rank alike or nothing matches.
 */
const wantsCsv = (c: Context<ApiEnv>) =>
  accepts(c, {
    header: 'Accept',
    supports: ['application/json', 'text/csv'],
    default: 'application/json',
  }) === 'text/csv';

/** A CSV download named for what it holds: `berth-<period>[-<tenant>|-<first>-to-<last>].csv` (ids are DNS labels). */
function csv(c: Context<ApiEnv>, name: string, reports: BillingReport[]) {
  c.header('content-type', 'text/csv; charset=utf-8');
  c.header('content-disposition', `attachment; filename="berth-${name}.csv"`);
  return c.body(reportsCsv(reports), 200);
}

/** What one CSV page of every tenant's reports is named by: the whole period, or the tenants of one page of it. */
function pageName(period: string, reports: BillingReport[], paged: boolean) {
  const first = reports[0]?.tenant;
  const last = reports.at(-1)?.tenant;
  if (!paged || !first || !last) return period;
  return first === last ? `${period}-${first}` : `${period}-${first}-to-${last}`;
}

export function billingRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/usage',
        operationId: 'getUsage',
        summary: 'Get your usage by hour or day',
        description:
          'Metered rows per app and UTC hour or day: vCPU-seconds, GiB-seconds and instance-seconds' +
          " of every replica's life, and their cost by the install's prices. By default, the " +
          'current month to now; at most 366 days in one query, a page at a time; `app` keeps one ' +
          "app's rows.",
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: UsageQuery },
        responses: {
          200: json(UsageReport, 'Your metered usage per app and hour or day, with its cost.'),
        },
      }),
      async (c) => c.json(await getUsage(deps, tenantOf(c.get('principal')), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/billing/reports/{period}',
        operationId: 'getBillingReport',
        summary: "Get a month's billing report (every tenant's with the admin key)",
        description:
          "A month's line items, one per app, its quantities priced exactly, with totals. A report is a " +
          '`draft`, which may still change, until the report job makes it `final`, three days after the month' +
          ' ends, when late usage has come in: a final report never changes. A tenant has reports' +
          ' from the month it was created in: an earlier month, or one not begun, is 404 ' +
          "`report.notFound`. The admin key gets every tenant's, deleted ones' too, a page at a " +
          'time. `Accept: text/csv` answers CSV, a download named for the period and its tenants.',
        tags,
        security: bearer,
        request: { params: z.object({ period: Period }), query: ListQuery },
        responses: {
          200: {
            description:
              "A tenant key gets its own report; the admin key gets every tenant's, a page at a time (`limit`, `cursor`), " +
              'the next page also in a `Link: <…>; rel="next"` header. `Accept: text/csv` → CSV.',
            content: {
              'application/json': { schema: z.union([BillingReport, BillingReportList]) },
              'text/csv': { schema: z.string() },
            },
          },
        },
      }),
      async (c) => {
        const { period } = c.req.valid('param');
        const principal = c.get('principal');
        if (principal.role === 'tenant') {
          const own = await getReport(deps, tenantOf(principal), period);
          return wantsCsv(c) ? csv(c, `${period}-${own.tenant}`, [own]) : c.json(own, 200);
        }
        const query = c.req.valid('query');
        const page = await listReports(deps, period, query);
        if (page.nextCursor) {
          const next = new URLSearchParams({ limit: String(query.limit), cursor: page.nextCursor });
          c.header('link', `<${c.req.path}?${next}>; rel="next"`);
        }
        return wantsCsv(c)
          ? csv(c, pageName(period, page.items, Boolean(query.cursor || page.nextCursor)), page.items)
          : c.json({ period, reports: page.items, nextCursor: page.nextCursor }, 200);
      },
    );
}
