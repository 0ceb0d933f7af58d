import { describe, expect, it } from 'vitest';
import { createApp, getAppRecord, scaleApp, startApp, stopApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { createIngress } from '../../../functions/local/ingress.ts';
import { RoutingTable } from '../../../functions/local/routing-table.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('the local ingress without a ready replica', () => {
  it('answers 404 for no app, 503 with Retry-After while one starts, and 503 without it naming why when none will be', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    const ingress = createIngress(new RoutingTable(), deps.store);
    const get = (host: string) => ingress.request('/', { headers: { host } });

    expect((await get('web.acme.localhost:8000')).status).toBe(404);

    await createApp(deps, 'acme', { name: 'web', ...spec });
    const starting = await get('web.acme.localhost:8000');
    expect(starting.status).toBe(503);
    expect(starting.headers.get('retry-after')).toBe('1');

    await stopApp(deps, 'acme', 'web');
    const stopped = await get('web.acme.localhost:8000');
    expect(stopped.status).toBe(503);
    expect(stopped.headers.get('retry-after')).toBeNull();
    expect(await stopped.json()).toMatchObject({
      code: 'unavailable',
      detail: 'app "web" is stopped; POST /v1/apps/web/start starts it',
    });

    await startApp(deps, 'acme', 'web');
    await scaleApp(deps, 'acme', 'web', 0);
    const scaledToZero = await get('web.acme.localhost:8000');
    expect(scaledToZero.status).toBe(503);
    expect(scaledToZero.headers.get('retry-after')).toBeNull();
    expect(await scaledToZero.json()).toMatchObject({
      detail: 'app "web" is scaled to zero; POST /v1/apps/web/scale adds replicas',
    });

    await scaleApp(deps, 'acme', 'web', 1);
    const app = await getAppRecord(deps, 'acme', 'web');
    // What a reconcile pass writes once the tenant is suspended.
    await deps.store.writeRollout({
      app: { record: { ...app, status: 'suspended' }, expectedVersion: app.version },
    });
    const suspended = await get('web.acme.localhost:8000');
    expect(suspended.status).toBe(503);
    expect(suspended.headers.get('retry-after')).toBeNull();
    expect(await suspended.json()).toMatchObject({
      code: 'unavailable',
      detail: 'app "web" does not run while tenant "acme" is suspended',
    });
  });
});
