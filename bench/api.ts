import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { key as itemKey, type Key } from '../functions/adapters/dynamodb/items.ts';
import { ensureTable } from '../functions/adapters/dynamodb/table.ts';
import { generateApiKey } from '../functions/core/api-keys.ts';
import { localDynamoDbClient, startDynamoDbLocal } from '../functions/local/dynamodb-local.ts';
import { platformEnv, runPlatform } from '../test/support/platform-process.ts';
import { ms, summarize, timeConcurrently } from './stats.ts';

/**
 * A lean keep-alive HTTP/1.1 client (like the SDK's own), so the client's cost does not count as the server's.
 */
function keepAliveClient(port: number, key: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return {
    request(method: string, path: string, body?: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            agent,
            headers: {
              authorization: `Bearer ${key}`,
              ...(body ? { 'content-type': 'application/json' } : {}),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

const REQUESTS = 2000;
const CONCURRENCY = 8;
const WARMUP = 200;

/**
 * `npm run bench -- api`: p50/p99 of GET /v1/apps/{app} and POST /v1/apps/{app}/scale through the local HTTP
 * server (its own process, as in production), next to the same DynamoDB Local calls each request makes, issued
 * directly from this process in the same run. The ratio is Berth's overhead: HTTP, auth, validation, JSON.
 */
export async function benchApi() {
  const dynamodb = await startDynamoDbLocal();
  const adminKey = generateApiKey();
  const tableName = `bench-${randomUUID()}`;
  const env = await platformEnv({
    BERTH_DYNAMODB_ENDPOINT: dynamodb.endpoint,
    BERTH_ADMIN_KEY: adminKey,
    BERTH_TABLE_NAME: tableName,
    BERTH_RATE_LIMIT_PER_SECOND: '1000000',
    BERTH_RATE_LIMIT_BURST: '1000000',
  });
  const { api: base, apiPort: port } = env;
  const platform = await runPlatform(env);
  try {
    const post = async (path: string, key: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const tenant = await post('/v1/tenants', adminKey, { id: 'bench', name: 'Bench', plan: 'pro' });
    const key = (tenant.apiKey as { key: string }).key;
    const apps = Array.from({ length: CONCURRENCY }, (_, i) => `app-${i}`);
    for (const name of apps) {
      await post('/v1/apps', key, {
        name,
        image: 'registry.example.com/bench/web:1',
        cpu: 0.25,
        memory: 512,
        port: 8080,
      });
    }

    // One app per worker, so conditional writes never contend and both sides do the same work.
    const http = keepAliveClient(port, key);
    const getApp = (worker: number) => http.request('GET', `/v1/apps/${apps[worker]}`);
    const scale = (worker: number, i: number) =>
      http.request('POST', `/v1/apps/${apps[worker]}/scale`, JSON.stringify({ replicas: 1 + (i % 2) }));

    // The direct baseline: exactly the DynamoDB requests the server makes for each call (keys are cached).
    const client = localDynamoDbClient(dynamodb.endpoint);
    await ensureTable(client, tableName);
    const doc = DynamoDBDocumentClient.from(client);
    const appKey = (name: string) => itemKey.app('bench', name);
    const tenantKey = itemKey.tenant('bench');
    const planKey = itemKey.plan('pro');
    const get = (Key: Key) => doc.send(new GetCommand({ TableName: tableName, Key, ConsistentRead: true }));
    const directGet = async (worker: number) => {
      const { Item } = await get(appKey(apps[worker] ?? ''));
      if (!Item) throw new Error('baseline: app missing');
    };
    const directScale = async (worker: number) => {
      const { Item: app } = await get(appKey(apps[worker] ?? ''));
      await get(tenantKey);
      const { Item: plan } = await get(planKey);
      if (!app || !plan) throw new Error('baseline: items missing');
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: { ...app, version: app.version + 1, body: { ...app.body, version: app.version + 1 } },
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': app.version },
              },
            },
            {
              Update: {
                TableName: tableName,
                Key: tenantKey,
                UpdateExpression: 'ADD #a :zero',
                ConditionExpression: '#s = :active AND #p = :plan',
                ExpressionAttributeNames: { '#a': 'reservedApps', '#s': 'status', '#p': 'plan' },
                ExpressionAttributeValues: { ':zero': 0, ':active': 'active', ':plan': 'pro' },
              },
            },
            {
              ConditionCheck: {
                TableName: tableName,
                Key: planKey,
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': plan.version },
              },
            },
          ],
        }),
      );
    };

    const rows: [string, number[], number[]][] = [];
    for (const [label, viaApi, direct] of [
      ['GET /v1/apps/{app}', getApp, directGet],
      ['POST /v1/apps/{app}/scale', scale, directScale],
    ] as const) {
      await timeConcurrently(WARMUP, CONCURRENCY, viaApi);
      await timeConcurrently(WARMUP, CONCURRENCY, direct);
      // Interleave the two so drift in the machine's load hits both alike.
      const apiSamples: number[] = [];
      const directSamples: number[] = [];
      for (let round = 0; round < 4; round++) {
        apiSamples.push(...(await timeConcurrently(REQUESTS / 4, CONCURRENCY, viaApi)));
        directSamples.push(...(await timeConcurrently(REQUESTS / 4, CONCURRENCY, direct)));
      }
      rows.push([label, apiSamples, directSamples]);
    }
    console.log(`api bench: ${REQUESTS} requests each, concurrency ${CONCURRENCY}, DynamoDB Local in memory`);
    for (const [label, apiSamples, directSamples] of rows) {
      const a = summarize(apiSamples);
      const d = summarize(directSamples);
      console.log(`\n${label}`);
      console.log(
        `  through the API : min ${ms(a.min)}  p50 ${ms(a.p50)}  p99 ${ms(a.p99)}  max ${ms(a.max)}`,
      );
      console.log(
        `  DynamoDB direct : min ${ms(d.min)}  p50 ${ms(d.p50)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`,
      );
      console.log(
        `  ratio           : p50 ${(a.p50 / d.p50).toFixed(2)} (goal ≤ 1.5)  p99 ${(a.p99 / d.p99).toFixed(2)} (goal ≤ 2)`,
      );
    }
    client.destroy();
    http.close();
  } finally {
    await platform.stop();
    await dynamodb.stop();
  }
}
