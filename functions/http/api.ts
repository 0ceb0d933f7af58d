import { createRoute } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import * as z from 'zod';
import { allowedMethods } from './allowed-methods.ts';
import type { ApiDeps } from './context.ts';
import { DOCS_PAGE, DOCS_PAGE_POLICY } from './docs-page.ts';
import { auditWrites } from './middleware/audit.ts';
import { authenticate } from './middleware/auth.ts';
import { limitBodies } from './middleware/body-limit.ts';
import { uncompressedBodies } from './middleware/content-coding.ts';
import { headBodiesCancelled } from './middleware/head-requests.ts';
import { idempotency } from './middleware/idempotency.ts';
import { canonicalMediaTypes } from './middleware/media-type.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { utf8Bodies } from './middleware/utf8-bodies.ts';
import { json, RESPONSE_HEADERS } from './openapi.ts';
import { errorToResponse, problem } from './problem.ts';
import { appRoutes } from './routes/apps.ts';
import { billingRoutes } from './routes/billing.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { instanceRoutes } from './routes/instances.ts';
import { ownKeyRoutes } from './routes/keys.ts';
import { planRoutes } from './routes/plans.ts';
import { repositoryRoutes } from './routes/repositories.ts';
import { router } from './routes/router.ts';
import { tenantRoutes } from './routes/tenants.ts';

export const MAX_BODY_BYTES = 64 * 1024;

const OPENAPI_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'Berth API',
    version: '1.0.0',
    description:
      'Containers as a Service for your tenants: apps, revisions, deployments, plans and usage. Every answer ' +
      'carries a `Request-Id` header, which the logs name too.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [{ url: '/', description: 'This installation: the host that serves this document.' }],
  tags: [
    { name: 'Meta', description: 'Whether the API answers. No key is needed.' },
    {
      name: 'Plans (admin)',
      description:
        'What tenants may use: apps, replicas per app, vCPU and memory, and optional monthly caps. The admin key only.',
    },
    {
      name: 'Tenants (admin)',
      description: "The platform's tenants, their API keys and their usage. The admin key only.",
    },
    {
      name: 'Tenant',
      description:
        "Your own tenant, its plan and what you use of it, and your API keys. A tenant's keys only.",
    },
    {
      name: 'Apps',
      description:
        "Your containers, each served at its own URL. A change to what an app runs makes a revision and deploys it. A tenant's keys only, as for every route below; another tenant's apps answer 404.",
    },
    { name: 'Deployments', description: 'Revisions rolled out, rolled back, and followed to their end.' },
    {
      name: 'Instances and operations',
      description:
        "What an app's replicas do (their state, logs, events and metrics), and stopping, starting and restarting them.",
    },
    {
      name: 'Images',
      description:
        'Your repositories in the platform registry (ECR on AWS), and short-lived credentials to push to them.',
    },
    {
      name: 'Billing',
      description:
        "Usage metered by the second and priced by the install's price table, and monthly reports.",
    },
  ],
};

/**
 * The Berth HTTP API as one Hono app; the Lambda handler and the local server both serve it.
 *
 * @example
 * const res = await createApi(deps).request('/v1/apps', { headers: { authorization: `Bearer ${key}` } });
 */
export function createApi(deps: ApiDeps) {
  const app = router();
  app.onError((err, c) => errorToResponse(c, err, deps.logger));
  let methodsAt: ((path: string) => string[]) | undefined;
  /** The methods the routes take at `path`, read from them on first use, once every route is registered. */
  const methodsOf = (path: string) => {
    methodsAt ??= allowedMethods(app.routes);
    return methodsAt(path);
  };
  app.notFound((c) => {
    const allowed = methodsOf(c.req.path);
    if (allowed.length === 0)
      return problem(c, 'route.notFound', `there is no route ${c.req.method} ${c.req.path}`);
    const allow = allowed.join(', ');
    return problem(c, 'method.notAllowed', `${c.req.path} answers ${allow}, not ${c.req.method}`, {
      headers: { allow },
    });
  });
  app.use('*', requestId());
  app.use('*', headBodiesCancelled);
  // Browsers' safeguards on every answer (nosniff, no framing by others, no referrer, HSTS over HTTPS). HSTS leaves
  // out subdomains: the API's host may be the parent of hosts that are not Berth's.
  app.use('*', secureHeaders({ strictTransportSecurity: 'max-age=15552000' }));
  app.use('*', limitBodies(MAX_BODY_BYTES));
  app.use('*', uncompressedBodies());
  app.use('*', canonicalMediaTypes());
  app.use('*', utf8Bodies());
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'getHealth',
      summary: 'Whether the API is up',
      description:
        'Answers 200 while the API takes requests; it reads nothing else, so it says nothing of ' +
        'the table or the runtimes. No key is needed.',
      tags: ['Meta'],
      security: [],
      responses: { 200: json(z.object({ status: z.literal('ok') }), 'The API is up.') },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  app.use(
    '/v1/*',
    // Answers for one key's eyes, whose status fields move under the same ETag (the version If-Match compares):
    // no cache may keep them. Set before the answer exists, as request-id.ts sets its header (see there).
    async (c, next) => {
      c.header('cache-control', 'no-store');
      await next();
    },
    authenticate(deps.auth),
    rateLimit(deps.rateLimit, deps),
    auditWrites(deps.audit),
    idempotency(deps, (path) => methodsOf(path).includes('POST')),
  );
  app.route('/', planRoutes(deps));
  app.route('/', tenantRoutes(deps));
  app.route('/', appRoutes(deps));
  app.route('/', deploymentRoutes(deps));
  app.route('/', instanceRoutes(deps));
  app.route('/', repositoryRoutes(deps));
  app.route('/', billingRoutes(deps));
  app.route('/', ownKeyRoutes(deps));
  for (const [name, header] of Object.entries(RESPONSE_HEADERS)) {
    app.openAPIRegistry.registerComponent('headers', name, header);
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `bk_…`',
  });
  // Generated on first request, not at start: it costs a cold start tens of milliseconds.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document(OPENAPI_CONFIG);
    return c.json(document);
  });
  app.get('/docs', (c) => c.html(DOCS_PAGE, 200, { 'content-security-policy': DOCS_PAGE_POLICY }));
  return app;
}

export type Api = ReturnType<typeof createApi>;

/** The OpenAPI document of the routes, without wiring any dependency (for `npm run openapi`). */
export function openApiDocument() {
  const unwired = new Proxy({} as ApiDeps, {
    get: (_target, prop) => {
      if (prop === 'rateLimit') return { ratePerSecond: 1, burst: 1 };
      return new Proxy(() => {}, {
        get: () => {
          throw new Error(`openApiDocument() does not wire ${String(prop)}`);
        },
      });
    },
  });
  return createApi(unwired).getOpenAPI31Document(OPENAPI_CONFIG);
}
