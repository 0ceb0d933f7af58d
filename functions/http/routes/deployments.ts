import * as z from 'zod';
import { Deployment, DeploymentCreate, Revision, RollbackRequest } from '../../../schemas/app.ts';
import { ListQuery, pageOf, wholeNumber } from '../../../schemas/common.ts';
import {
  deploy,
  getDeployment,
  getRevision,
  listDeployments,
  listRevisions,
  rollback,
} from '../../core/deployments.ts';
import { type ApiDeps, authorOf, chargeWait, tenantOf } from '../context.ts';
import { ifMatchVersions } from '../etag.ts';
import {
  apiRoute,
  appActionHeaders,
  bearer,
  json,
  jsonBody,
  optionalJsonBody,
  responseHeaders,
} from '../openapi.ts';
import { AppParams, tenantOnly } from './apps.ts';
import { router } from './router.ts';

const DeploymentParams = AppParams.extend({
  id: z
    .string()
    .regex(/^dep_[a-z0-9]{1,40}$/, 'must be a deployment id such as "dep_0000001e24619a12fbf"')
    .describe("The deployment's id."),
});
const RevisionParams = AppParams.extend({
  n: wholeNumber(1, 1_000_000_000).describe("The revision's number: 1 for the app's first."),
});
const WaitQuery = z.object({
  wait: wholeNumber(0, 30)
    .default(0)
    .describe('Seconds to wait for the deployment to end; the answer comes as soon as it does.'),
});
const tags = ['Deployments'];

export function deploymentRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/apps/{app}/deployments',
        operationId: 'createDeployment',
        summary: 'Deploy an app, optionally with spec changes',
        description:
          'A new revision of the current spec with the fields given applied, deployed even when ' +
          'nothing changed: that is how to roll out what a tag now names, or to try a failed ' +
          'deployment again. New replicas start before the old ones stop. A deployment fails when ' +
          "its replicas are not healthy within the install's deadline or too many fail to start; " +
          'the app then goes back to the revision that served before, by a deployment of its own. A' +
          ' deployment begun meanwhile supersedes this one (`failed`, with the reason).',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: {
          params: AppParams,
          headers: appActionHeaders,
          body: jsonBody(DeploymentCreate),
        },
        responses: {
          202: {
            ...json(Deployment, 'A new revision, being deployed.'),
            headers: responseHeaders('Location'),
          },
        },
      }),
      async (c) => {
        const { app } = c.req.valid('param');
        const deployment = await deploy(
          deps,
          tenantOf(c.get('principal')),
          app,
          c.req.valid('json'),
          ifMatchVersions(c),
          authorOf(c.get('principal')),
        );
        c.header('location', `/v1/apps/${app}/deployments/${deployment.id}`);
        return c.json(deployment, 202);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/deployments',
        operationId: 'listDeployments',
        summary: "List an app's deployments, newest first",
        description: "The app's deployments, newest first, with their revision, status and phases.",
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, query: ListQuery },
        responses: {
          200: json(pageOf(Deployment, 'DeploymentPage'), 'Deployments, newest first.'),
        },
      }),
      async (c) =>
        c.json(
          await listDeployments(
            deps,
            tenantOf(c.get('principal')),
            c.req.valid('param').app,
            c.req.valid('query'),
          ),
          200,
        ),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/deployments/{id}',
        operationId: 'getDeployment',
        summary: 'Get a deployment, optionally waiting for it to end',
        description:
          'With `?wait=N` the answer comes when the deployment ends (`succeeded`, `failed`, `rolled_back` or ' +
          '`superseded`), or after N seconds, so a client follows a deployment without polling.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: DeploymentParams, query: WaitQuery },
        responses: {
          200: json(
            Deployment,
            'The deployment; ?wait=N waits up to N s for a terminal status (behind API Gateway, up to 20 s, ' +
              "counted as one request per second it may wait against the tenant's rate limit).",
          ),
        },
      }),
      async (c) => {
        const { app, id } = c.req.valid('param');
        const { wait } = c.req.valid('query');
        const waitSeconds = await chargeWait(c, deps, wait);
        const tenantId = tenantOf(c.get('principal'));
        return c.json(await getDeployment(deps, tenantId, app, id, waitSeconds, c.req.raw.signal), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/apps/{app}/rollback',
        operationId: 'rollbackApp',
        summary: 'Deploy an earlier revision again',
        description:
          'Deploys an existing revision again, as it was: no rebuild, its image by the digest it ' +
          'pinned. Without `revision`, the newest revision that went live other than the one the ' +
          'app runs or is moving to, so two rollbacks in a row toggle between the last two. 409 ' +
          '`revision.noPrevious` when there is none; 409 `revision.current` for the revision the app ' +
          'is on already (went live, and no deployment moves it off); 409 `revision.imageGone` when its image has ' +
          'since left the platform registry (deleted, or gone once the app no longer held it: an app ' +
          "holds the images of its newest 10 revisions); 400 when another registry's host is no " +
          'longer one it may pull from.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: {
          params: AppParams,
          headers: appActionHeaders,
          body: optionalJsonBody(RollbackRequest),
        },
        responses: {
          202: {
            ...json(Deployment, 'A deployment of the older revision.'),
            headers: responseHeaders('Location'),
          },
        },
      }),
      async (c) => {
        const { app } = c.req.valid('param');
        const deployment = await rollback(
          deps,
          tenantOf(c.get('principal')),
          app,
          c.req.valid('json').revision,
          ifMatchVersions(c),
          authorOf(c.get('principal')),
        );
        c.header('location', `/v1/apps/${app}/deployments/${deployment.id}`);
        return c.json(deployment, 202);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/revisions',
        operationId: 'listRevisions',
        summary: "List an app's revisions",
        description:
          "The app's revisions, newest first: each is a spec that was deployed, with the digest its" +
          ' image resolved to where the registry tells.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: AppParams, query: ListQuery },
        responses: { 200: json(pageOf(Revision, 'RevisionPage'), 'Revisions, newest first.') },
      }),
      async (c) =>
        c.json(
          await listRevisions(
            deps,
            tenantOf(c.get('principal')),
            c.req.valid('param').app,
            c.req.valid('query'),
          ),
          200,
        ),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/apps/{app}/revisions/{n}',
        operationId: 'getRevision',
        summary: 'Get one revision of an app',
        description: '404 `revision.notFound` when the app has no revision of that number.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: RevisionParams },
        responses: { 200: json(Revision, 'The revision.') },
      }),
      async (c) => {
        const { app, n } = c.req.valid('param');
        return c.json(await getRevision(deps, tenantOf(c.get('principal')), app, n), 200);
      },
    );
}
