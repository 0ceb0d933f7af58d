import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

describe('DynamoDB Local going away and coming back', () => {
  let dynamodb: DynamoDbLocal | undefined;
  afterAll(() => dynamodb?.stop());

  it('answers 503 unavailable while it is down, works again after, and leaves nothing half-written', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-outage-'));
    dynamodb = await startDynamoDbLocal({ dbPath });
    const { call, createTenant } = await localApi({ dynamodb });
    const key = (await createTenant('acme')).key;
    expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);

    await dynamodb.stop();
    const writes = await Promise.all(
      Array.from({ length: 5 }, (_, i) => call('POST', '/v1/apps', key, sampleApp(`down-${i}`))),
    );
    for (const res of [
      ...writes,
      await call('GET', '/v1/apps/web', key),
      await call('POST', '/v1/apps/web/scale', key, { replicas: 3 }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ code: 'unavailable', status: 503 });
      expect(res.headers.get('retry-after')).toBe('1');
    }

    dynamodb = await startDynamoDbLocal({ dbPath, port: dynamodb.port });
    const app = await call('GET', '/v1/apps/web', key);
    expect(app).toMatchObject({ status: 200, json: { replicas: 1, version: 1 } });
    const apps = (await call('GET', '/v1/apps', key)).json.items as { name: string }[];
    expect(apps.map((a) => a.name)).toEqual(['web']);
    const tenant = await call('GET', '/v1/tenant', key);
    expect(tenant.json.usage).toMatchObject({
      apps: { used: 1 },
      vcpu: { used: 0.25 },
      memoryMiB: { used: 512 },
    });
    expect((await call('POST', '/v1/apps', key, sampleApp('after'))).status).toBe(201);
  });
});
