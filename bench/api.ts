import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { allOf, equals } from '../functions/adapters/dynamodb/expressions.ts';
import { key as itemKey } from '../functions/adapters/dynamodb/items.ts';
import { type Item, SingleTable } from '../functions/adapters/dynamodb/single-table.ts';
import { appEventItem } from '../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../functions/adapters/dynamodb/table.ts';
import { generateApiKey } from '../functions/core/api-keys.ts';
import { localDynamoDbClient, startDynamoDbLocal } from '../functions/local/dynamodb-local.ts';
import { freePort } from '../functions/local/free-port.ts';
import {
  exited,
  platformEnv,
  runPlatform,
  startTsProcess,
  waitForReady,
} from '../test/support/platform-process.ts';
import { ms, type Summary, summarize, timeConcurrently } from './stats.ts';

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

/** Where a server's CPU time can be read: Linux's /proc. Elsewhere the bench leaves that figure out. */
const CPU_READABLE = existsSync('/proc/self/stat');

/** CPU seconds a process has used (user and system), from Linux's /proc in clock ticks of 1/100 s. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** bench/api-floor-server.ts in a process of its own, as the platform is. */
async function startFloorServer(env: Record<string, string>) {
  const floor = startTsProcess('bench/api-floor-server.ts', env);
  await waitForReady(floor, 30_000, '[floor] ready');
  return {
    pid: floor.child.pid,
    stop: async () => {
      floor.child.kill('SIGTERM');
      await exited(floor.child);
    },
  };
}

const REQUESTS = 2000;
const CONCURRENCY = 8;
const WARMUP = 200;

/**
 * `npm run bench -- api`: p50/p99 of GET /v1/apps/{app} and POST /v1/apps/{app}/scale through the local HTTP
 * server (its own process, as in production), next to the same DynamoDB Local calls each request makes, issued
 * directly from this process in the same run. The ratio is Berth's overhead: HTTP, auth, validation, JSON. For the
 * GET, a floor beside them: the same read served by Hono and the table's client alone (bench/api-floor-server.ts),
 * which shows how much of the ratio any Node server on this stack pays on this machine.
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
  let floor: Awaited<ReturnType<typeof startFloorServer>> | undefined;
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
    const floorPort = await freePort();
    floor = await startFloorServer({
      FLOOR_DYNAMODB_ENDPOINT: dynamodb.endpoint,
      FLOOR_TABLE_NAME: tableName,
      FLOOR_TENANT: 'bench',
      FLOOR_PORT: String(floorPort),
    });
    const floorHttp = keepAliveClient(floorPort, key);
    const getAppFromFloor = (worker: number) => floorHttp.request('GET', `/v1/apps/${apps[worker]}`);
    const scale = (worker: number, i: number) =>
      http.request('POST', `/v1/apps/${apps[worker]}/scale`, JSON.stringify({ replicas: 1 + (i % 2) }));

    // The direct baseline: exactly the DynamoDB requests the server makes for each call (keys are cached).
    const client = localDynamoDbClient(dynamodb);
    await ensureTable(client, tableName);
    const table = new SingleTable(client, tableName);
    const appKey = (name: string) => itemKey.app('bench', name);
    const tenantKey = itemKey.tenant('bench');
    const planKey = itemKey.plan('pro');
    const directGet = async (worker: number) => {
      if (!(await table.get(appKey(apps[worker] ?? '')))) throw new Error('baseline: app missing');
    };
    const directScale = async (worker: number) => {
      const [app] = await Promise.all([table.get(appKey(apps[worker] ?? '')), table.get(tenantKey)]);
      const plan = await table.get(planKey);
      if (!app || !plan) throw new Error('baseline: items missing');
      const body = app.body as { uid: string; version: number };
      const version = Number(app.version);
      const { cancelled } = await table.transact([
        table.putItem(
          { ...(app as Item), version: version + 1, body: { ...body, version: version + 1 } },
          equals('version', version),
        ),
        table.updateItem(
          tenantKey,
          { add: { reservedApps: 0 } },
          allOf(equals('status', 'active'), equals('plan', 'pro')),
        ),
        table.checkItem(planKey, equals('version', plan.version)),
        // The scale's event, written with it.
        table.putItem(
          appEventItem({
            tenantId: 'bench',
            appUid: body.uid,
            id: `evt_${randomUUID()}`,
            type: 'scaled',
            message: 'scaled from 1 to 2 replicas',
            at: new Date().toISOString(),
            details: { from: 1, to: 2 },
          }),
        ),
      ]);
      if (cancelled) throw new Error(`baseline: the scale was cancelled (${cancelled.join(', ')})`);
    };

    interface Variant {
      run: (worker: number, i: number) => Promise<void>;
      /** The server process answering it, whose CPU time is measured; none for the direct calls. */
      pid?: number;
      samples: number[];
      cpuSeconds: number;
    }
    const variant = (run: Variant['run'], pid?: number): Variant => ({
      run,
      pid,
      samples: [],
      cpuSeconds: 0,
    });
    const rows: { label: string; api: Variant; direct: Variant; floor?: Variant }[] = [
      {
        label: 'GET /v1/apps/{app}',
        api: variant(getApp, platform.child.pid),
        direct: variant(directGet),
        floor: variant(getAppFromFloor, floor.pid),
      },
      {
        label: 'POST /v1/apps/{app}/scale',
        api: variant(scale, platform.child.pid),
        direct: variant(directScale),
      },
    ];
    for (const row of rows) {
      const variants = [row.api, row.direct, ...(row.floor ? [row.floor] : [])];
      for (const v of variants) await timeConcurrently(WARMUP, CONCURRENCY, v.run);
      // Interleave them so drift in the machine's load hits each alike.
      for (let round = 0; round < 4; round++) {
        for (const v of variants) {
          const measured = CPU_READABLE ? v.pid : undefined;
          const cpuBefore = measured ? cpuSecondsOf(measured) : 0;
          v.samples.push(...(await timeConcurrently(REQUESTS / 4, CONCURRENCY, v.run)));
          if (measured) v.cpuSeconds += cpuSecondsOf(measured) - cpuBefore;
        }
      }
    }
    const cpuPerRequest = (v: Variant) => ms((v.cpuSeconds * 1000) / v.samples.length);
    if (!CPU_READABLE)
      console.log("(the servers' CPU time is not measured here: it is read from Linux's /proc)");
    console.log(`api bench: ${REQUESTS} requests each, concurrency ${CONCURRENCY}, DynamoDB Local in memory`);
    for (const row of rows) {
      const a = summarize(row.api.samples);
      const d = summarize(row.direct.samples);
      const line = (label: string, s: Summary) =>
        console.log(
          `  ${label.padEnd(16)}: min ${ms(s.min)}  p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`,
        );
      console.log(`\n${row.label}`);
      line('through the API', a);
      line('DynamoDB direct', d);
      console.log(
        `  ${'ratio'.padEnd(16)}: p50 ${(a.p50 / d.p50).toFixed(2)} (goal ≤ 1.5)  p99 ${(a.p99 / d.p99).toFixed(2)} (goal ≤ 2)`,
      );
      if (row.floor) {
        // What a server on the same stack costs before any of Berth's work: the part of the ratio Berth cannot own.
        const f = summarize(row.floor.samples);
        line('Hono + table floor', f);
        console.log(
          `  ${'floor ratio'.padEnd(16)}: p50 ${(f.p50 / d.p50).toFixed(2)}  p99 ${(f.p99 / d.p99).toFixed(2)}; Berth over the floor: p50 ${(a.p50 / f.p50).toFixed(2)}  p99 ${(a.p99 / f.p99).toFixed(2)}`,
        );
      }
      if (!CPU_READABLE) continue;
      // Less at the mercy of the machine's load than latency: the server's own CPU time per request. A change wakes
      // the platform's reconciler, in the same process, so its passes count there too.
      const beside = row.floor
        ? `the floor's ${cpuPerRequest(row.floor)}: ${(row.api.cpuSeconds / row.floor.cpuSeconds).toFixed(2)}×`
        : "with the reconciler's passes it wakes";
      console.log(`  ${'server CPU'.padEnd(16)}: ${cpuPerRequest(row.api)} a request, ${beside}`);
    }
    http.close();
    floorHttp.close();
  } finally {
    await floor?.stop();
    await platform.stop();
    await dynamodb.stop();
  }
}
