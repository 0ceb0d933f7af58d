import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { ensureDockerEngine } from '../functions/local/docker-engine.ts';
import { clientFor } from '../test/support/local-api.ts';
import { platformEnv, runPlatform } from '../test/support/platform-process.ts';
import { buildTestImage } from '../test/support/test-image.ts';
import { ms, summarize } from './stats.ts';

const RUNS = 12;
const POLL_MS = 10;
const TICK_MS = 5000;
const KILLS = 4;
/** Longer than the reconciler's 10 s after which a healthy replica's failure starts a fresh back-off. */
const STABLE_WAIT_MS = 11_000;
/**
 * Serves the revision number and an id of its own, so the first 200 of a new revision can be told from the old one's,
 * and a replica that replaced a killed one from the killed one.
 */
const COMMAND = [
  'sh',
  '-c',
  'mkdir -p /www; echo "$BERTH_REVISION $(cat /proc/sys/kernel/random/uuid)" > /www/index.html; ' +
    'exec httpd -f -p 8080 -h /www',
];

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** ms from `start` until `get` answers 200 with a body that `wanted` takes. */
async function untilServing(
  start: bigint,
  port: number,
  host: string,
  wanted: (body: string) => boolean,
): Promise<number> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await get(port, host);
    if (res.status === 200 && wanted(res.body)) return Number(process.hrtime.bigint() - start) / 1e6;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${host} never served what was waited for`);
}

/** A body of `revision`, from any replica. */
const ofRevision = (revision: number | string) => (body: string) => body.startsWith(`${revision} `);

function docker(args: string[]): string {
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** The baseline: `docker run` of the same image and command, until its published port answers 200. */
async function rawRun(image: string): Promise<number> {
  const start = process.hrtime.bigint();
  const id = docker([
    'run',
    '-d',
    '--init',
    '-p',
    '127.0.0.1::8080',
    '-e',
    'BERTH_REVISION=raw',
    image,
    ...COMMAND,
  ]);
  try {
    const port = Number(docker(['port', id, '8080/tcp']).split(':').at(-1));
    return await untilServing(start, port, `127.0.0.1:${port}`, ofRevision('raw'));
  } finally {
    docker(['rm', '-f', id]);
  }
}

/**
 * `npm run bench -- deploy`: time from `POST /v1/apps/{app}/deployments` to the first 200 of the new revision
 * through the ingress, next to `docker run` + first 200 of the same image in the same run; then self-heal time.
 */
export async function benchDeploy() {
  const env = await platformEnv({ BERTH_TICK_MS: String(TICK_MS) });
  await ensureDockerEngine(env.dataDir);
  const image = buildTestImage();
  const platform = await runPlatform(env);
  const { call, createTenant } = clientFor(
    { request: (path, init) => fetch(`${env.api}${path}`, init) },
    platform.adminKey,
  );
  const key = (await createTenant('bench')).key;
  try {
    const host = `web.bench.localhost:${env.ingressPort}`;
    const created = await call('POST', '/v1/apps', key, {
      name: 'web',
      image,
      cpu: 0.25,
      memory: 512,
      port: 8080,
      command: COMMAND,
    });
    if (created.status !== 201) throw new Error(`create: ${created.text}`);
    await untilServing(process.hrtime.bigint(), env.ingressPort, host, ofRevision(1));

    const deploys: number[] = [];
    const raws: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      raws.push(await rawRun(image));
      const start = process.hrtime.bigint();
      const res = await call('POST', '/v1/apps/web/deployments', key, { env: { RUN: String(i) } });
      if (res.status !== 202) throw new Error(`deploy: ${res.text}`);
      deploys.push(await untilServing(start, env.ingressPort, host, ofRevision(String(res.json.revision))));
      // Let the old replica go before the next run, as between real deploys.
      await call('GET', `/v1/apps/web/deployments/${res.json.id}?wait=30`, key);
    }

    const heals: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      // A replica that failed soon after starting is backed off as a crash loop; these kills are not that.
      await new Promise((resolve) => setTimeout(resolve, STABLE_WAIT_MS));
      const [victim] = docker([
        'ps',
        '-q',
        '--filter',
        `label=berth.installation=${env.env.BERTH_TABLE_NAME}`,
        '--filter',
        'label=berth.app=web',
      ]).split('\n');
      const killed = (await get(env.ingressPort, host)).body;
      const start = process.hrtime.bigint();
      docker(['kill', victim ?? '']);
      // Until the replica that replaced it answers: the ingress may hold a request meanwhile, and answer it from there.
      heals.push(await untilServing(start, env.ingressPort, host, (body) => body !== killed));
    }

    const d = summarize(deploys);
    const r = summarize(raws);
    const h = summarize(heals);
    console.log(`deploy bench: ${RUNS} runs, image ${image}, tick ${TICK_MS} ms, poll every ${POLL_MS} ms`);
    console.log(
      `  deploy → first 200 via ingress : p50 ${ms(d.p50)}  p90 ${ms(d.p90)}  (min ${ms(d.min)}, max ${ms(d.max)})`,
    );
    console.log(
      `  docker run → first 200 (raw)   : p50 ${ms(r.p50)}  p90 ${ms(r.p90)}  (min ${ms(r.min)}, max ${ms(r.max)})`,
    );
    console.log(`  ratio of medians               : ${(d.p50 / r.p50).toFixed(2)} (goal ≤ 1.5)`);
    console.log(
      `  self-heal (kill → 200 anew)    : p50 ${ms(h.p50)}  max ${ms(h.max)} over ${h.n} kills, tick ${TICK_MS} ms`,
    );
  } finally {
    await call('DELETE', '/v1/apps/web', key);
    const deadline = Date.now() + 30_000;
    while ((await call('GET', '/v1/apps/web', key)).status !== 404 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await platform.stop();
  }
}
