import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { App, AppCreate, AppPatch, ScaleRequest } from '../../../schemas/app.ts';
import { DnsLabel, ListQuery, pageOf } from '../../../schemas/common.ts';
import { TenantOverview } from '../../../schemas/tenant.ts';
import { createApp, deleteApp, getApp, listApps, scaleApp, updateApp } from '../../core/apps.ts';
import { getTenantOverview } from '../../core/tenants.ts';
import { type ApiDeps, tenantOf } from '../context.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  bearer,
  etagHeader,
  idempotencyHeader,
  ifMatchHeader,
  json,
  jsonBody,
  problems,
} from '../openapi.ts';
import { router } from './router.ts';

export const AppParams = z.object({ app: DnsLabel });
export const tenantOnly = requireRole('tenant');
const tags = ['Apps'];

export function appRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/v1/tenant',
        operationId: 'getOwnTenant',
        summary: 'Get your tenant, its plan and usage against the limits',
        tags: ['Tenant'],
        security: bearer,
        middleware: tenantOnly,
        responses: {
          200: json(TenantOverview, 'Your tenant, its plan and usage against the limits.'),
          ...problems,
        },
      }),
      async (c) => c.json(await getTenantOverview(deps, tenantOf(c.get('principal'))), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/v1/apps',
        operationId: 'createApp',
        summary: 'Create an app and start its first deployment',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { headers: idempotencyHeader, body: jsonBody(AppCreate) },
        responses: {
          201: { ...json(App, 'The app; revision 1 and its deployment start at once.'), headers: etagHeader },
          ...problems,
        },
      }),
      async (c) => {
        const { app } = await createApp(deps, tenantOf(c.get('principal')), c.req.valid('json'));
        c.header('location', `/v1/apps/${app.name}`);
        c.header('etag', etagOf(app.version));
        return c.json(app, 201);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/v1/apps',
        operationId: 'listApps',
        summary: 'List your apps',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: ListQuery },
        responses: { 200: json(pageOf(App, 'AppPage'), 'Your apps.'), ...problems },
      }),
      async (c) => c.json(await listApps(deps, tenantOf(c.get('principal')), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/v1/apps/{app}',
        operationId: 'getApp',
        summary: 'Get an app',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams },
        responses: { 200: { ...json(App, 'The app.'), headers: etagHeader }, ...problems },
      }),
      async (c) => {
        const app = await getApp(deps, tenantOf(c.get('principal')), c.req.valid('param').app);
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/v1/apps/{app}',
        operationId: 'updateApp',
        summary: "Change an app's spec (a new revision and deployment) or its scaling",
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, headers: ifMatchHeader, body: jsonBody(AppPatch) },
        responses: {
          200: { ...json(App, 'The app; a spec change starts a new revision.'), headers: etagHeader },
          ...problems,
        },
      }),
      async (c) => {
        const app = await updateApp(
          deps,
          tenantOf(c.get('principal')),
          c.req.valid('param').app,
          c.req.valid('json'),
          ifMatchVersions(c),
        );
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/v1/apps/{app}',
        operationId: 'deleteApp',
        summary: 'Delete an app: its replicas are stopped and removed',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, headers: ifMatchHeader },
        responses: {
          202: json(App, 'Deletion accepted (a suspended tenant may delete its apps too).'),
          ...problems,
        },
      }),
      async (c) =>
        c.json(
          await deleteApp(deps, tenantOf(c.get('principal')), c.req.valid('param').app, ifMatchVersions(c)),
          202,
        ),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/v1/apps/{app}/scale',
        operationId: 'scaleApp',
        summary: 'Set how many replicas an app runs',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: {
          params: AppParams,
          headers: idempotencyHeader.extend(ifMatchHeader.shape),
          body: jsonBody(ScaleRequest),
        },
        responses: {
          200: { ...json(App, 'The app with its new desired replica count.'), headers: etagHeader },
          ...problems,
        },
      }),
      async (c) => {
        const app = await scaleApp(
          deps,
          tenantOf(c.get('principal')),
          c.req.valid('param').app,
          c.req.valid('json').replicas,
          ifMatchVersions(c),
        );
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    );
}
