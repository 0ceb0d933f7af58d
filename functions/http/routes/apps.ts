import * as z from 'zod';
import { App, AppCreate, AppPatch, ScaleRequest } from '../../../schemas/app.ts';
import { DnsLabel, ListQuery, pageOf } from '../../../schemas/common.ts';
import { TenantOverview } from '../../../schemas/tenant.ts';
import { createApp, deleteApp, getApp, listApps, scaleApp, updateApp } from '../../core/apps.ts';
import { getTenantOverview } from '../../core/tenants.ts';
import { type ApiDeps, authorOf, tenantOf } from '../context.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  apiRoute,
  appActionHeaders,
  bearer,
  etagHeader,
  idempotencyHeader,
  ifMatchHeader,
  json,
  jsonBody,
  responseHeaders,
} from '../openapi.ts';
import { router } from './router.ts';

export const AppParams = z.object({ app: DnsLabel.describe("The app's name.") });
export const tenantOnly = requireRole('tenant');
const tags = ['Apps'];

export function appRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/tenant',
        operationId: 'getOwnTenant',
        summary: 'Get your tenant, its plan and usage against the limits',
        description:
          "Your tenant, its plan, and what you hold against the plan's limits: apps, replicas, vCPU" +
          ' and memory, your month against the monthly caps, and your keys and repositories against' +
          ' theirs.',
        tags: ['Tenant'],
        security: bearer,
        middleware: tenantOnly,
        responses: {
          200: json(TenantOverview, 'Your tenant, its plan and usage against the limits.'),
        },
      }),
      async (c) => c.json(await getTenantOverview(deps, tenantOf(c.get('principal'))), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/apps',
        operationId: 'createApp',
        summary: 'Create an app and start its first deployment',
        description:
          'Revision 1 and its deployment are written with the app and start at once: follow them ' +
          'with `GET /v1/apps/{app}/deployments/{id}?wait=30`, or watch `status` go from ' +
          '`deploying` to `running`. The app is served at `url`. An image from the platform ' +
          'registry must have been pushed to one of your repositories and is pinned to its digest; ' +
          "another registry's host may not resolve off the public internet (400). 403 " +
          "`quota.exceeded` when the app would pass the plan's limits or the month's cap is " +
          'reached, 403 `tenant.suspended`; 409 `app.exists`, or `app.deleting` while an app of the' +
          ' name is still being deleted.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { headers: idempotencyHeader, body: jsonBody(AppCreate) },
        responses: {
          201: {
            ...json(App, 'The app; revision 1 and its deployment start at once.'),
            headers: responseHeaders('ETag', 'Location'),
          },
        },
      }),
      async (c) => {
        const principal = c.get('principal');
        const { app } = await createApp(deps, tenantOf(principal), c.req.valid('json'), authorOf(principal));
        c.header('location', `/v1/apps/${app.name}`);
        c.header('etag', etagOf(app.version));
        return c.json(app, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps',
        operationId: 'listApps',
        summary: 'List your apps',
        description: 'Your apps, by name, with their status.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: ListQuery },
        responses: { 200: json(pageOf(App, 'AppPage'), 'Your apps.') },
      }),
      async (c) => c.json(await listApps(deps, tenantOf(c.get('principal')), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}',
        operationId: 'getApp',
        summary: 'Get an app',
        description:
          "The app's spec, status and replica counts. Its `ETag` is the version of what you set: " +
          '`status` and `readyReplicas` move under it as the platform works.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams },
        responses: { 200: { ...json(App, 'The app.'), headers: etagHeader } },
      }),
      async (c) => {
        const app = await getApp(deps, tenantOf(c.get('principal')), c.req.valid('param').app);
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'patch',
        path: '/v1/apps/{app}',
        operationId: 'updateApp',
        summary: "Change an app's spec (a new revision and deployment) or its scaling",
        description:
          'Only the fields given change; null clears an optional field. A change to what a replica ' +
          'runs (image, size, port, command, env, health check) makes a new revision and ' +
          'deployment; `replicas` and `scaling` alone only resize the app. A patch that changes ' +
          'nothing writes nothing and keeps the ETag. The runtime never changes (400). A stopped ' +
          'app stays stopped: its new revision runs once it is started. 403 `quota.exceeded` when ' +
          "the change would pass the plan's limits; 412 when `If-Match` names a stale version.",
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, headers: ifMatchHeader, body: jsonBody(AppPatch) },
        responses: {
          200: { ...json(App, 'The app; a spec change starts a new revision.'), headers: etagHeader },
        },
      }),
      async (c) => {
        const app = await updateApp(
          deps,
          tenantOf(c.get('principal')),
          c.req.valid('param').app,
          c.req.valid('json'),
          ifMatchVersions(c),
          authorOf(c.get('principal')),
        );
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/v1/apps/{app}',
        operationId: 'deleteApp',
        summary: 'Delete an app: its replicas are stopped and removed',
        description:
          'The app shows `status: "deleting"` while its replicas are stopped and removed, then ' +
          'answers 404. A suspended tenant may delete its apps too.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, headers: ifMatchHeader },
        responses: {
          202: json(App, 'Deletion accepted (a suspended tenant may delete its apps too).'),
        },
      }),
      async (c) =>
        c.json(
          await deleteApp(
            deps,
            tenantOf(c.get('principal')),
            c.req.valid('param').app,
            ifMatchVersions(c),
            authorOf(c.get('principal')),
          ),
          202,
        ),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/apps/{app}/scale',
        operationId: 'scaleApp',
        summary: 'Set how many replicas an app runs',
        description:
          'With autoscaling on, the count must lie within `scaling.min..max` (so 0 needs `min: 0`),' +
          ' and the autoscaler takes it from there. 403 `quota.exceeded` when the count would pass ' +
          "the plan's replicas per app, vCPU or memory, or when a scale-out meets the month's cap " +
          '(scaling in always works). A stopped app keeps the count for when it starts. The same ' +
          'count writes nothing.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: {
          params: AppParams,
          headers: appActionHeaders,
          body: jsonBody(ScaleRequest),
        },
        responses: {
          200: { ...json(App, 'The app with its new desired replica count.'), headers: etagHeader },
        },
      }),
      async (c) => {
        const app = await scaleApp(
          deps,
          tenantOf(c.get('principal')),
          c.req.valid('param').app,
          c.req.valid('json').replicas,
          ifMatchVersions(c),
          authorOf(c.get('principal')),
        );
        c.header('etag', etagOf(app.version));
        return c.json(app, 200);
      },
    );
}
