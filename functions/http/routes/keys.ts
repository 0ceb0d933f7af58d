import * as z from 'zod';
import { ApiKeyCreate, ApiKeyCreated, ApiKeyPage, KeyId } from '../../../schemas/api-key.ts';
import { ListQuery } from '../../../schemas/common.ts';
import { listTenantKeys } from '../../core/api-keys.ts';
import { createOwnKey, revokeOwnKey } from '../../core/own-keys.ts';
import { MAX_KEYS_PER_TENANT } from '../../core/tenant-caps.ts';
import { type ApiDeps, tenantCaller, tenantOf } from '../context.ts';
import { apiRoute, bearer, idempotencyHeader, json, optionalJsonBody } from '../openapi.ts';
import { tenantOnly } from './apps.ts';
import { router } from './router.ts';

const tags = ['Tenant'];

/** A tenant's own API keys: `/v1/keys`. */
export function ownKeyRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/keys',
        operationId: 'createKey',
        summary: 'Create another API key for your tenant',
        description:
          'Another key for your tenant (at most 20; 403 `quota.exceeded` beyond), to rotate keys ' +
          'without the platform team: make the next key, move to it, then revoke the first. Its ' +
          'secret is in this answer only.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { headers: idempotencyHeader, body: optionalJsonBody(ApiKeyCreate) },
        responses: {
          201: json(
            ApiKeyCreated,
            `Another key of yours (at most ${MAX_KEYS_PER_TENANT}); its secret is shown only here.`,
          ),
        },
      }),
      async (c) =>
        c.json(await createOwnKey(deps, tenantCaller(c.get('principal')), c.req.valid('json').name), 201),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/keys',
        operationId: 'listKeys',
        summary: "List your tenant's API keys",
        description:
          "Your tenant's keys, oldest first, with their ids, names, prefixes and when each was last used; " +
          'never their secrets.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: ListQuery },
        responses: { 200: json(ApiKeyPage, 'Your keys, without secrets.') },
      }),
      async (c) =>
        c.json(await listTenantKeys(deps, tenantOf(c.get('principal')), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/v1/keys/{keyId}',
        operationId: 'deleteKey',
        summary: 'Revoke one of your API keys',
        description:
          'The key stops working at once. A key cannot revoke itself (409 `key.inUse`): revoke it with another.' +
          ' A suspended tenant may revoke its keys too.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: z.object({ keyId: KeyId }) },
        responses: {
          204: {
            description: 'Revoked; the key stops working at once. Not the key the request came with (409).',
          },
        },
      }),
      async (c) => {
        const holder = tenantCaller(c.get('principal'));
        deps.auth.forget(await revokeOwnKey(deps, holder, c.req.valid('param').keyId));
        return c.body(null, 204);
      },
    );
}
