import { Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { DNS_LABEL } from '../../schemas/common.ts';
import type { Store } from '../core/ports.ts';
import { problem } from '../http/problem.ts';
import type { RoutingTable } from './routing-table.ts';

const label = DNS_LABEL.source.slice(1, -1);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_ATTEMPTS = 3;
const HOST = new RegExp(`^(?<app>${label})\\.(?<tenant>${label})\\.localhost(?::\\d+)?$`);

/**
 * The local ingress: `http://<app>.<tenant>.localhost:<port>` → the app's ready replicas, round robin.
 * 503 problem+json while none is ready (without Retry-After when none will be: the app is stopped, scaled to zero or
 * its tenant suspended); 404 for a host that names no app.
 */
export function createIngress(routes: RoutingTable, store: Store) {
  const ingress = new Hono();
  ingress.all('*', async (c) => {
    const match = HOST.exec((c.req.header('host') ?? '').toLowerCase());
    const tenant = match?.groups?.tenant;
    const app = match?.groups?.app;
    if (!tenant || !app) {
      return problem(c, 'route.notFound', 'use http://<app>.<tenant>.localhost:<ingress port>/');
    }
    // A replica that went away between two requests (or a pooled connection to its old address) fails at once;
    // idempotent requests then try the next ready replica, so a rolling deploy drops nothing.
    const attempts = IDEMPOTENT.has(c.req.method) ? Math.min(MAX_ATTEMPTS, routes.size(tenant, app)) : 1;
    const url = new URL(c.req.url);
    for (let attempt = 1; ; attempt++) {
      const endpoint = routes.pick(tenant, app);
      if (!endpoint) {
        const stored = await store.getApp(tenant, app);
        if (!stored) return problem(c, 'app.notFound', `no app "${app}" for tenant "${tenant}"`);
        if (stored.status === 'stopped') {
          return problem(c, 'unavailable', `app "${app}" is stopped; POST /v1/apps/${app}/start starts it`);
        }
        if (stored.status === 'suspended') {
          return problem(c, 'unavailable', `app "${app}" does not run while tenant "${tenant}" is suspended`);
        }
        if (stored.replicas === 0) {
          return problem(
            c,
            'unavailable',
            `app "${app}" is scaled to zero; POST /v1/apps/${app}/scale adds replicas`,
          );
        }
        return problem(c, 'unavailable', `app "${app}" has no ready replica right now; retry shortly`, {
          headers: { 'retry-after': '1' },
        });
      }
      try {
        return await proxy(`http://${endpoint.host}:${endpoint.port}${url.pathname}${url.search}`, {
          ...c.req,
          headers: {
            ...c.req.header(),
            'x-forwarded-host': c.req.header('host'),
            'x-forwarded-proto': 'http',
          },
        });
      } catch {
        if (attempt >= attempts) {
          return problem(c, 'unavailable', `app "${app}" did not answer; retry shortly`, {
            headers: { 'retry-after': '1' },
          });
        }
      }
    }
  });
  return ingress;
}
