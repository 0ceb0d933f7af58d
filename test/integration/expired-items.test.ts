import { describe, expect, it } from 'vitest';
import type { DynamoDbHttp } from '../../functions/adapters/dynamodb/dynamodb-http.ts';
import { ExpiredItems } from '../../functions/adapters/dynamodb/expired-items.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The client, but `before` runs ahead of each of its calls. */
function watched(dynamodb: DynamoDbHttp, before: (operation: string) => Promise<void>): DynamoDbHttp {
  return new Proxy(dynamodb, {
    get: (target, property, receiver) =>
      property === 'call'
        ? async (operation: string, input: object) => {
            await before(operation);
            return target.call(operation, input);
          }
        : Reflect.get(target, property, receiver),
  });
}

describe('expired items on DynamoDB Local, deleted as DynamoDB’s TTL deletes them on AWS', () => {
  it('deletes an Idempotency-Key’s record after a day and app events after 30 days, and never an app', async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    const create = () => call('POST', '/v1/apps', key, sampleApp('web'), { 'idempotency-key': 'create-web' });
    expect((await create()).status).toBe(201);
    const now = Date.now();
    expect(await deps.expiredItems.delete(new Date(now))).toBe(0);
    expect((await create()).headers.get('idempotent-replayed')).toBe('true');

    await deps.expiredItems.delete(new Date(now + DAY_MS + HOUR_MS));
    // The key is forgotten: the same request is a new one, refused as the app exists.
    expect((await create()).json.code).toBe('app.exists');
    expect((await call('GET', '/v1/apps/web/events', key)).json.items).not.toHaveLength(0);

    await deps.expiredItems.delete(new Date(now + 31 * DAY_MS));
    expect((await call('GET', '/v1/apps/web/events', key)).json.items).toEqual([]);
    expect((await call('GET', '/v1/apps/web', key)).status).toBe(200);
    expect((await call('GET', '/v1/apps/web/deployments', key)).json.items).toHaveLength(1);
  });

  it('keeps an item renewed between the scan that found it expired and its delete', async () => {
    const { deps, dynamodb, tableName } = await localApi();
    expect(await deps.store.acquireLease('kept', 'me', 1_000, 0)).toBe(true);
    expect(await deps.store.acquireLease('gone', 'me', 1_000, 0)).toBe(true);
    let renewed = false;
    const racing = watched(dynamodb, async (operation) => {
      if (operation !== 'DeleteItem' || renewed) return;
      renewed = true;
      await deps.store.renewLease('kept', 'me', Date.now() + HOUR_MS);
    });

    expect(await new ExpiredItems(racing, tableName).delete(new Date())).toBe(1);
    expect(renewed).toBe(true);
    expect(await deps.store.acquireLease('kept', 'another', Date.now() + HOUR_MS, Date.now())).toBe(false);
    expect(await deps.store.acquireLease('gone', 'another', 1_000, 0)).toBe(true); // made anew: nothing held it
  });

  it('goes through the whole table, page after page of the scan', async () => {
    const { dynamodb, tableName } = await localApi();
    const nowSeconds = Math.floor(Date.now() / 1000);
    const item = (sk: string, expiresAt: number) => ({
      TableName: tableName,
      // About 350 KB each, so that 1 MB a page of the scan holds three at most.
      Item: {
        pk: { S: 'big' },
        sk: { S: sk },
        blob: { S: 'x'.repeat(350_000) },
        expiresAt: { N: `${expiresAt}` },
      },
    });
    for (let i = 0; i < 5; i++) await dynamodb.call('PutItem', item(`expired-${i}`, nowSeconds - 60));
    await dynamodb.call('PutItem', item('later', nowSeconds + 3600));
    let scans = 0;
    const counting = watched(dynamodb, async (operation) => {
      if (operation === 'Scan') scans++;
    });

    expect(await new ExpiredItems(counting, tableName).delete(new Date())).toBe(5);
    expect(scans).toBeGreaterThan(1);
    const { Items = [] } = await dynamodb.call<{ Items?: { sk: { S: string } }[] }>('Scan', {
      TableName: tableName,
      FilterExpression: 'pk = :big',
      ExpressionAttributeValues: { ':big': { S: 'big' } },
      ProjectionExpression: 'sk',
    });
    expect(Items.map((i) => i.sk.S)).toEqual(['later']);
  });
});
