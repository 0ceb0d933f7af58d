import { describe, expect, it } from 'vitest';
import { key } from '../../functions/adapters/dynamodb/items.ts';
import { SingleTable } from '../../functions/adapters/dynamodb/single-table.ts';
import { localApi } from '../support/local-api.ts';

describe('plans on DynamoDB Local', () => {
  it('archives a plan: its tenants stay on it, no tenant joins it, until it is offered again', async () => {
    const { call, adminKey } = await localApi();
    await call('POST', '/v1/plans', adminKey, {
      id: 'legacy',
      name: 'Legacy',
      limits: { apps: 2, instancesPerApp: 2, vcpu: 2, memoryMiB: 4096 },
    });
    expect(
      (await call('POST', '/v1/tenants', adminKey, { id: 'old', name: 'Old', plan: 'legacy' })).status,
    ).toBe(201);
    const archived = await call('PATCH', '/v1/plans/legacy', adminKey, { archived: true });
    expect(archived).toMatchObject({ status: 200, json: { id: 'legacy', archived: true, version: 2 } });
    expect((await call('GET', '/v1/plans/legacy', adminKey)).json.archived).toBe(true);

    const refused = await call('POST', '/v1/tenants', adminKey, { id: 'new', name: 'New', plan: 'legacy' });
    expect(refused).toMatchObject({
      status: 400,
      json: {
        code: 'validation.failed',
        detail: 'plan "legacy" is archived: it keeps its tenants but takes no new ones',
        errors: [{ path: 'plan', message: 'plan "legacy" is archived' }],
      },
    });
    expect((await call('GET', '/v1/tenants/new', adminKey)).status).toBe(404);
    // Its tenant stays, and may be changed, but once it moves off it cannot come back.
    expect(
      await call('PATCH', '/v1/tenants/old', adminKey, { name: 'Old Co', plan: 'legacy' }),
    ).toMatchObject({
      status: 200,
      json: { name: 'Old Co', plan: 'legacy' },
    });
    expect((await call('PATCH', '/v1/tenants/old', adminKey, { plan: 'pro' })).status).toBe(200);
    expect((await call('PATCH', '/v1/tenants/old', adminKey, { plan: 'legacy' })).status).toBe(400);

    expect((await call('PATCH', '/v1/plans/legacy', adminKey, { archived: false })).json.archived).toBe(
      false,
    );
    expect((await call('PATCH', '/v1/tenants/old', adminKey, { plan: 'legacy' })).status).toBe(200);
  });

  it('answers 404 for a plan there is not, and 412 to a change under an ETag gone stale, writing nothing', async () => {
    const { call, adminKey, deps } = await localApi();
    for (const [method, body] of [['GET'], ['PATCH', { name: 'Gold' }]] as const) {
      expect(await call(method, '/v1/plans/gold', adminKey, body)).toMatchObject({
        status: 404,
        json: { code: 'plan.notFound', detail: 'plan "gold" does not exist' },
      });
    }
    const etag = (await call('GET', '/v1/plans/pro', adminKey)).headers.get('etag') ?? '';
    expect(
      (await call('PATCH', '/v1/plans/pro', adminKey, { name: 'Pro 2' }, { 'if-match': etag })).status,
    ).toBe(200);
    const stale = await call('PATCH', '/v1/plans/pro', adminKey, { name: 'Pro 3' }, { 'if-match': etag });
    expect(stale).toMatchObject({ status: 412, json: { code: 'precondition.failed' } });
    expect(await deps.store.getPlan('pro')).toMatchObject({ name: 'Pro 2', version: 2 });
  });

  it('removes a monthly cap given as null, over HTTP and in the table', async () => {
    const { call, adminKey } = await localApi();
    const capped = await call('PATCH', '/v1/plans/pro', adminKey, { limits: { maxMonthlyCost: 25 } });
    expect(capped.json.limits).toMatchObject({ maxMonthlyCost: 25 });
    const uncapped = await call('PATCH', '/v1/plans/pro', adminKey, { limits: { maxMonthlyCost: null } });
    expect(uncapped.status, uncapped.text).toBe(200);
    expect((await call('GET', '/v1/plans/pro', adminKey)).json.limits).not.toHaveProperty('maxMonthlyCost');
    // Only the caps may be removed: every other limit is a number.
    const refused = await call('PATCH', '/v1/plans/pro', adminKey, { limits: { apps: null } });
    expect(refused).toMatchObject({ status: 400, json: { errors: [{ path: 'limits.apps' }] } });
  });

  it('reads a plan stored before plans could be archived as offered', async () => {
    const { call, adminKey, dynamodb, tableName } = await localApi();
    await new SingleTable(dynamodb, tableName).put({
      ...key.plan('older'),
      id: 'older',
      name: 'Older',
      limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 2048 },
      version: 1,
      createdAt: '2026-10-01T00:00:00.000Z',
      updatedAt: '2026-10-01T00:00:00.000Z',
    });
    expect((await call('GET', '/v1/plans/older', adminKey)).json).toEqual({
      id: 'older',
      name: 'Older',
      limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 2048 },
      archived: false,
      version: 1,
      createdAt: '2026-10-01T00:00:00.000Z',
      updatedAt: '2026-10-01T00:00:00.000Z',
    });
    expect(
      (await call('POST', '/v1/tenants', adminKey, { id: 'acme', name: 'Acme', plan: 'older' })).status,
    ).toBe(201);
  });
});
