import * as z from 'zod';
import { ApiKeyCreate, ApiKeyCreated, ApiKeyPage, KeyId, TenantCreated } from '../../../schemas/api-key.ts';
import { DnsLabel, ListQuery, pageOf } from '../../../schemas/common.ts';
import { Tenant, TenantCreate, TenantOverview, TenantPatch } from '../../../schemas/tenant.ts';
import { UsageQuery, UsageReport } from '../../../schemas/usage.ts';
import { issueTenantKey, listTenantKeys, revokeTenantKey } from '../../core/api-keys.ts';
import {
  createTenant,
  deleteTenant,
  getTenantOverview,
  listTenants,
  updateTenant,
} from '../../core/tenants.ts';
import { getUsage } from '../../core/usage.ts';
import type { ApiDeps } from '../context.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  apiRoute,
  bearer,
  etagHeader,
  idempotencyHeader,
  ifMatchHeader,
  json,
  jsonBody,
  optionalJsonBody,
  responseHeaders,
} from '../openapi.ts';
import { router } from './router.ts';

const TenantParams = z.object({
  tenantId: DnsLabel.meta({ description: "The tenant's id.", example: 'acme' }),
});
const KeyParams = TenantParams.extend({ keyId: KeyId });
const admin = requireRole('admin');
const tags = ['Tenants (admin)'];

export function tenantRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/tenants',
        operationId: 'createTenant',
        summary: 'Create a tenant and its first API key',
        description:
          "The tenant's id is a DNS label without `--`; it names the tenant in apps' hostnames, " +
          'registry paths and reports, and it is never used again once the tenant is deleted (409 ' +
          "`tenant.exists`). The answer holds the tenant's first API key, whose secret is shown " +
          'only here. The plan must exist and not be archived (400).',
        tags,
        security: bearer,
        middleware: admin,
        request: { headers: idempotencyHeader, body: jsonBody(TenantCreate) },
        responses: {
          201: {
            ...json(TenantCreated, 'The tenant and its first key, whose secret is shown only here.'),
            headers: responseHeaders('ETag', 'Location'),
          },
        },
      }),
      async (c) => {
        const created = await createTenant(deps, c.req.valid('json'));
        c.header('location', `/v1/tenants/${created.tenant.id}`);
        // The tenant's, as a 201's validators are the created resource's (RFC 9110): a PATCH may follow at once.
        c.header('etag', etagOf(created.tenant.version));
        return c.json(created, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/tenants',
        operationId: 'listTenants',
        summary: 'List tenants',
        description:
          'Every tenant that exists, by id, active and suspended; a deleted one is gone from here, while ' +
          'its usage and reports remain.',
        tags,
        security: bearer,
        middleware: admin,
        request: { query: ListQuery },
        responses: { 200: json(pageOf(Tenant, 'TenantPage'), 'Tenants.') },
      }),
      async (c) => c.json(await listTenants(deps, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/tenants/{tenantId}',
        operationId: 'getTenant',
        summary: 'Get a tenant with its usage against its plan',
        description:
          "The tenant, its plan, and what it holds against the plan's limits (apps, replicas, vCPU," +
          ' memory, and its month against the monthly caps), as well as its keys and repositories ' +
          'against theirs.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: TenantParams },
        responses: {
          200: {
            ...json(TenantOverview, 'The tenant, its plan and usage against the limits.'),
            headers: etagHeader,
          },
        },
      }),
      async (c) => {
        const overview = await getTenantOverview(deps, c.req.valid('param').tenantId);
        c.header('etag', etagOf(overview.tenant.version));
        return c.json(overview, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'patch',
        path: '/v1/tenants/{tenantId}',
        operationId: 'updateTenant',
        summary: 'Rename, move to another plan, suspend or reactivate a tenant',
        description:
          '`plan` moves the tenant to another plan that is not archived (400 otherwise); what it ' +
          'runs keeps running even where it exceeds the new plan, whose limits then refuse writes ' +
          'that add capacity. `status: "suspended"` stops the tenant\'s apps (they show `status: ' +
          '"suspended"`) and refuses its writes, but for deleting apps and repositories and revoking keys, until ' +
          '`"active"` starts them again.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: TenantParams, headers: ifMatchHeader, body: jsonBody(TenantPatch) },
        responses: { 200: { ...json(Tenant, 'The tenant.'), headers: etagHeader } },
      }),
      async (c) => {
        const tenant = await updateTenant(
          deps,
          c.req.valid('param').tenantId,
          c.req.valid('json'),
          ifMatchVersions(c),
        );
        c.header('etag', etagOf(tenant.version));
        return c.json(tenant, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/v1/tenants/{tenantId}',
        operationId: 'deleteTenant',
        summary: 'Delete a tenant that has no apps',
        description:
          '409 `tenant.hasApps` while the tenant has apps: delete them first. Its keys stop working' +
          ' at once, and its repositories go with it. Its id is never used again, as its usage and ' +
          'reports stay under it: a tenant created with the id would see them and be billed for ' +
          'them.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: TenantParams, headers: ifMatchHeader },
        responses: {
          204: {
            description:
              'Deleted, with its keys and repositories. Its id is never used again: its usage and reports stay under it.',
          },
        },
      }),
      async (c) => {
        const keyHashes = await deleteTenant(deps, c.req.valid('param').tenantId, ifMatchVersions(c));
        for (const hash of keyHashes) deps.auth.forget(hash);
        return c.body(null, 204);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/tenants/{tenantId}/usage',
        operationId: 'getTenantUsage',
        summary: "Get a tenant's usage by hour or day",
        description:
          'As `GET /v1/usage` answers the tenant itself: metered rows per app and UTC hour or day, ' +
          "a page at a time. A deleted tenant's usage still answers, as it is still billed.",
        tags,
        security: bearer,
        middleware: admin,
        request: { params: TenantParams, query: UsageQuery },
        responses: {
          200: json(
            UsageReport,
            "The tenant's metered usage per app and hour or day; a deleted tenant's too, as it is billed.",
          ),
        },
      }),
      async (c) => c.json(await getUsage(deps, c.req.valid('param').tenantId, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/tenants/{tenantId}/keys',
        operationId: 'createTenantKey',
        summary: 'Create an API key for a tenant',
        description:
          'Another key for the tenant (at most 20; 403 `quota.exceeded` beyond). Its secret is in ' +
          'this answer only: Berth keeps only its hash.',
        tags,
        security: bearer,
        middleware: admin,
        request: {
          params: TenantParams,
          headers: idempotencyHeader,
          body: optionalJsonBody(ApiKeyCreate),
        },
        responses: { 201: json(ApiKeyCreated, 'The key; its secret is shown only here.') },
      }),
      async (c) =>
        c.json(await issueTenantKey(deps, c.req.valid('param').tenantId, c.req.valid('json').name), 201),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/tenants/{tenantId}/keys',
        operationId: 'listTenantKeys',
        summary: "List a tenant's API keys",
        description:
          "The tenant's keys, oldest first, with their ids, prefixes and when each was last used; never " +
          'their secrets.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: TenantParams, query: ListQuery },
        responses: { 200: json(ApiKeyPage, 'Keys, without secrets.') },
      }),
      async (c) =>
        c.json(await listTenantKeys(deps, c.req.valid('param').tenantId, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/v1/tenants/{tenantId}/keys/{keyId}',
        operationId: 'deleteTenantKey',
        summary: "Revoke a tenant's API key",
        description: 'The key stops working at once. 404 `key.notFound` for a key the tenant does not hold.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: KeyParams },
        responses: { 204: { description: 'Revoked; the key stops working at once.' } },
      }),
      async (c) => {
        const { tenantId, keyId } = c.req.valid('param');
        deps.auth.forget(await revokeTenantKey(deps, tenantId, keyId));
        return c.body(null, 204);
      },
    );
}
