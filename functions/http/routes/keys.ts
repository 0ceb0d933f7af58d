import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ApiKeyCreate, ApiKeyCreated, ApiKeyPage, KeyId } from '../../../schemas/api-key.ts';
import { ListQuery } from '../../../schemas/common.ts';
import { listTenantKeys, type Principal } from '../../core/api-keys.ts';
import { createOwnKey, type KeyHolder, revokeOwnKey } from '../../core/own-keys.ts';
import type { ApiDeps } from '../context.ts';
import { emptyBodyIsNone } from '../middleware/empty-body.ts';
import { bearer, idempotencyHeader, json, optionalJsonBody, problems } from '../openapi.ts';
import { tenantOnly } from './apps.ts';
import { router } from './router.ts';

const tags = ['Tenant'];

function holderOf(principal: Principal): KeyHolder {
  if (principal.role !== 'tenant') throw new Error('key routes are guarded by requireRole("tenant")');
  return { tenantId: principal.tenantId, keyId: principal.keyId };
}

/** A tenant's own API keys: `/v1/keys`. */
export function ownKeyRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/v1/keys',
        tags,
        security: bearer,
        middleware: [tenantOnly, emptyBodyIsNone],
        request: { headers: idempotencyHeader, body: optionalJsonBody(ApiKeyCreate) },
        responses: {
          201: json(ApiKeyCreated, 'Another key of yours (at most 20); its secret is shown only here.'),
          ...problems,
        },
      }),
      async (c) => c.json(await createOwnKey(deps, holderOf(c.get('principal'))), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/v1/keys',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: ListQuery },
        responses: { 200: json(ApiKeyPage, 'Your keys, without secrets.'), ...problems },
      }),
      async (c) =>
        c.json(await listTenantKeys(deps, holderOf(c.get('principal')).tenantId, c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/v1/keys/{keyId}',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: z.object({ keyId: KeyId }) },
        responses: {
          204: {
            description: 'Revoked; the key stops working at once. Not the key the request came with (409).',
          },
          ...problems,
        },
      }),
      async (c) => {
        const holder = holderOf(c.get('principal'));
        deps.auth.forget(await revokeOwnKey(deps, holder, c.req.valid('param').keyId));
        return c.body(null, 204);
      },
    );
}
