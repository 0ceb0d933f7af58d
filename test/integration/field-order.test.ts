import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { newId } from '../../functions/core/ids.ts';
import { Revision } from '../../schemas/app.ts';
import { AppEvent } from '../../schemas/instance.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

type Json = Record<string, unknown>;

/** Every field name of `value` with its path, in the order JSON shows them. */
function fieldPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => fieldPaths(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, field]) => [
    `${path}.${name}`,
    ...fieldPaths(field, `${path}.${name}`),
  ]);
}

describe('field order on DynamoDB Local', () => {
  it('answers a read with its fields in the order the write that made it answered', async () => {
    const { call, adminKey, deps } = await localApi();
    const same = async (
      written: unknown,
      path: string,
      key: string,
      pick = (read: Json): unknown => read,
    ) => {
      const read = await call('GET', path, key);
      expect(read.status).toBe(200);
      expect(fieldPaths(pick(read.json)), path).toEqual(fieldPaths(written));
    };

    const plan = await call('POST', '/v1/plans', adminKey, {
      limits: { memoryMiB: 4096, vcpu: 2, instancesPerApp: 3, apps: 5 },
      name: 'Team',
      id: 'team',
    });
    expect(plan.status).toBe(201);
    await same(plan.json, '/v1/plans/team', adminKey);

    const created = await call('POST', '/v1/tenants', adminKey, { plan: 'team', name: 'Acme', id: 'acme' });
    expect(created.status).toBe(201);
    const key = (created.json.apiKey as { key: string }).key;
    await same(created.json.tenant, '/v1/tenants/acme', adminKey, (read) => read.tenant);
    await same(created.json.tenant, '/v1/tenant', key, (read) => read.tenant);
    await same(plan.json, '/v1/tenant', key, (read) => read.plan);

    const repository = await call('POST', '/v1/repositories', key, { name: 'web' });
    expect(repository.status).toBe(201);
    await same([repository.json], '/v1/repositories', key, (read) => read.items);

    // Enough variables for the table's own order of a map to differ from the one they were sent in.
    const env = Object.fromEntries(
      ['from', 'to', 'reason', 'recommended', 'cpuPercent', 'memoryPercent', 'samples', 'min', 'max'].map(
        (n, i) => [n, String(i)],
      ),
    );
    const app = await call('POST', '/v1/apps', key, sampleApp('web', { env }));
    expect(app.status).toBe(201);
    await same(app.json, '/v1/apps/web', key);

    const deployment = await call('POST', '/v1/apps/web/deployments', key, { env: { RELEASE: '2' } });
    expect(deployment.status).toBe(202);
    await same(deployment.json, `/v1/apps/web/deployments/${deployment.json.id}`, key);

    // Nothing answers a write with a revision or an event: their reads follow the schema's order.
    const inOrderOf = (schema: z.ZodObject, item: Json) =>
      expect(Object.keys(item)).toEqual(Object.keys(schema.shape).filter((name) => name in item));
    const revision = await call('GET', '/v1/apps/web/revisions/2', key);
    inOrderOf(Revision, revision.json);
    // The create and the deploy wrote an event each; one more written as the reconciler would, fields in another
    // order, for a read to answer too.
    const stored = await deps.store.getApp('acme', 'web');
    await deps.store.addAppEvent({
      details: { deployment: deployment.json.id },
      at: new Date().toISOString(),
      message: 'revision 2 is live',
      type: 'deployed',
      id: newId('evt', new Date()),
      appUid: stored?.uid ?? '',
      tenantId: 'acme',
    });
    const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
    expect(events.map((e) => e.type)).toEqual(['deployed', 'deploying', 'deploying']);
    for (const event of events) inOrderOf(AppEvent, event);
  });

  it('takes a PATCH of what the app already has as no change, whatever order the table keeps its maps in', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const scaling = {
      min: 1,
      max: 3,
      targetCpuPercent: 60,
      scaleInStabilizationSeconds: 120,
      schedules: [{ cron: '0 8 * * 1-5', timezone: 'Europe/Paris', min: 2, max: 3 }],
    };
    const env = { ZETA: '1', ALPHA: '2', MIDDLE: '3' };
    const healthCheck = { path: '/healthz', intervalSeconds: 15, timeoutSeconds: 3, healthyThreshold: 2 };
    const created = await call('POST', '/v1/apps', key, sampleApp('web', { scaling, env, healthCheck }));
    expect(created.status, created.text).toBe(201);
    const app = (await call('GET', '/v1/apps/web', key)).json;

    const patched = await call('PATCH', '/v1/apps/web', key, {
      scaling: app.scaling,
      env: app.env,
      healthCheck: app.healthCheck,
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ generation: app.generation, latestRevision: app.latestRevision });
    const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
    expect(events.map((e) => e.type)).toEqual(['deploying']);
  });
});
