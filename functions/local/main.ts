import { once } from 'node:events';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { ensureTable } from '../adapters/dynamodb/table.ts';
import { seedPlans } from '../core/plans.ts';
import { createApi } from '../http/api.ts';
import { localDeps, localRuntime, logger } from '../shared/local.ts';
import { readLocalConfig, unknownSettings } from '../shared/local-config.ts';
import { resolveAdminKey } from './admin-key.ts';
import { DISK_CHECK_PERIOD_MS, diskSpaceCheck } from './disk-space.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import { watchDockerEvents } from './docker-events.ts';
import { localDynamoDbClient, SHARED_ACCESS_KEY, startDynamoDbLocal } from './dynamodb-local.ts';
import { sizesEngineRuns } from './engine-sizes.ts';
import { freePort, listensOn } from './free-port.ts';
import { serveIngress, serveLocally } from './http-server.ts';
import { createIngress } from './ingress.ts';
import { tunnelUpgrades } from './ingress-upgrades.ts';
import { JobTimer } from './job-timer.ts';
import { keepRunning } from './keep-running.ts';
import { lockDataDir, lockInstallation } from './platform-locks.ts';
import { portHolder } from './port-holder.ts';
import { registryAuthRoutes } from './registry-auth-routes.ts';
import { startRegistry } from './registry-process.ts';

/**
 * How long the requests in flight when the platform stops may take to finish; then the connections still open — a
 * followed log, a long poll, a download through the ingress — are closed, or one of them would hold the stop for good.
 */
const STOP_GRACE_MS = 3000;

/**
 * How long after a start the ingress holds a request for an app with no ready replica yet, rather than answer 503:
 * the routing table starts empty, and the replicas that served before the start are routed again once the reconcile
 * loop's first passes have found and probed them (0.2–0.6 s after `ready` with a handful of apps, whether the
 * platform before stopped or was killed: the apps' leases are taken over at once).
 */
const ROUTES_REBUILD_MS = 10_000;

/** Stops taking connections, lets those in flight finish within STOP_GRACE_MS, then closes what is left. */
const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
  });

/** The error that stops a start on a port another process holds: which one, where Linux tells, and the setting. */
function portTaken(port: number, setting: string): Error {
  const holder = portHolder(port);
  return new Error(
    `port ${port} is already in use${holder ? ` by ${holder}` : ''}: set ${setting} to a free one`,
  );
}

/** Resolves once `server` listens; a port already taken fails the start, naming the setting that chose it. */
async function listening(server: Server, port: number, setting: string): Promise<void> {
  try {
    await once(server, 'listening');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw portTaken(port, setting);
  }
}

/**
 * `npm start`: the whole local platform — preflight (Java, Docker Engine), DynamoDB Local (unless
 * BERTH_DYNAMODB_ENDPOINT), the table and seeded plans, the API, the ingress and the reconcile loop. App
 * containers outlive it and are adopted by label on the next start.
 */
async function main() {
  const unknown = unknownSettings(process.env);
  if (unknown.length) {
    console.warn(
      `[berth] ignoring ${unknown.join(', ')}: no setting of local mode has that name (README: "Configuration")`,
    );
  }
  const config = readLocalConfig();
  // Before anything else touches the data directory or a container; released however the process ends but by
  // SIGKILL, which leaves locks the next start takes over.
  process.once('exit', lockDataDir(config.dataDir));
  process.once('exit', lockInstallation(config.BERTH_TABLE_NAME));
  const logDir = join(config.dataDir, 'logs');
  // Started again, where the platform may start it, should it stop while the platform runs: see watchDockerEvents.
  const ensureEngine = () => ensureDockerEngine(logDir);
  const docker = await ensureEngine();
  let dynamoDbLocal: { stop(): Promise<void> } | undefined;
  // One run elsewhere is its runner's to keep from the app containers; ours keeps the tables under a secret key.
  let address = config.BERTH_DYNAMODB_ENDPOINT && {
    endpoint: config.BERTH_DYNAMODB_ENDPOINT,
    accessKeyId: SHARED_ACCESS_KEY,
  };
  if (!address) {
    console.log('[berth] starting DynamoDB Local…');
    // Started again on the same port, over the same files (so at the same address), if it ever exits on its own.
    const port = await freePort([config.BERTH_PORT, config.BERTH_INGRESS_PORT, config.BERTH_REGISTRY_PORT]);
    const dbPath = join(config.dataDir, 'dynamodb');
    const kept = await keepRunning('DynamoDB Local', () => startDynamoDbLocal({ dbPath, port }));
    dynamoDbLocal = kept;
    address = kept.first;
  }
  const dynamodb = localDynamoDbClient(address);
  try {
    await ensureTable(dynamodb, config.BERTH_TABLE_NAME);
  } catch (err) {
    await dynamoDbLocal?.stop();
    throw err;
  }
  const admin = resolveAdminKey(config.dataDir, config.BERTH_ADMIN_KEY);
  const deps = localDeps({
    dynamodb,
    tableName: config.BERTH_TABLE_NAME,
    adminKey: admin.key,
    ingressPort: config.BERTH_INGRESS_PORT,
    rateLimit: { ratePerSecond: config.BERTH_RATE_LIMIT_PER_SECOND, burst: config.BERTH_RATE_LIMIT_BURST },
    registry: { port: config.BERTH_REGISTRY_PORT, dir: join(config.dataDir, 'registry') },
    reportsDir: join(config.dataDir, 'reports'),
    ...(config.BERTH_PRICE_TABLE ? { prices: config.BERTH_PRICE_TABLE } : {}),
    sizes: config.BERTH_SIZES ?? sizesEngineRuns((await docker.info()).NCPU),
  });
  await seedPlans(deps);
  const { runtime, routes, loop, jobs, replicaEvents } = localRuntime(deps, {
    docker,
    installation: config.BERTH_TABLE_NAME,
    tickMs: config.BERTH_TICK_MS,
    deploymentDeadlineSeconds: config.BERTH_DEPLOYMENT_DEADLINE_SECONDS,
    stopGraceSeconds: config.BERTH_STOP_GRACE_SECONDS,
  });
  const events = await watchDockerEvents(docker, config.BERTH_TABLE_NAME, replicaEvents, ensureEngine);
  const apiUrl = `http://127.0.0.1:${config.BERTH_PORT}`;
  const registryAuth = registryAuthRoutes(deps.registryAuth);
  const httpApi = createApi(deps);
  const api = serveLocally(
    // The server's env (the request's socket among it) goes on, as it reaches an app served alone.
    (req, env) =>
      (new URL(req.url).pathname.startsWith('/registry/') ? registryAuth : httpApi).fetch(req, env),
    config.BERTH_PORT,
  );
  let registry: { stop(): Promise<void> };
  const idleMs = config.BERTH_APP_IDLE_TIMEOUT_SECONDS * 1000;
  let ingress: Server;
  let tunnels: ReturnType<typeof tunnelUpgrades>;
  try {
    await listening(api, config.BERTH_PORT, 'BERTH_PORT');
    // The registry tells a taken port only in its log; one on 5000 already (another registry's) is common.
    if (!(await listensOn(config.BERTH_REGISTRY_PORT)))
      throw portTaken(config.BERTH_REGISTRY_PORT, 'BERTH_REGISTRY_PORT');
    registry = await keepRunning('the registry', () =>
      startRegistry({
        dir: join(config.dataDir, 'registry'),
        port: config.BERTH_REGISTRY_PORT,
        realm: `${apiUrl}/registry/auth`,
        notifyUrl: `${apiUrl}/registry/events`,
        notifySecret: deps.registryAuth.notifySecret,
        certificatePath: deps.registrySecrets.certificatePath,
      }),
    );
    routes.rebuilding(ROUTES_REBUILD_MS);
    ingress = serveIngress(
      createIngress(routes, deps.store, idleMs).fetch,
      config.BERTH_INGRESS_PORT,
      idleMs,
    );
    tunnels = tunnelUpgrades(ingress, routes, deps.store, idleMs);
    await listening(ingress, config.BERTH_INGRESS_PORT, 'BERTH_INGRESS_PORT').catch(async (err) => {
      await registry.stop();
      throw err;
    });
  } catch (err) {
    await closeServer(api);
    await dynamoDbLocal?.stop();
    throw err;
  }
  // The platform's own: what it writes (the table, the registry's layers) goes to the data directory's disk.
  jobs.push(
    new JobTimer('disk space', diskSpaceCheck(config.dataDir, logger.warn), DISK_CHECK_PERIOD_MS, logger),
  );
  loop.start();
  for (const job of jobs) job.start();

  console.log(`[berth] API        ${apiUrl}  (docs: ${apiUrl}/docs)`);
  console.log(`[berth] registry   ${deps.registry.host}  (docker login: POST /v1/registry/token)`);
  console.log(`[berth] apps       http://<app>.<tenant>.localhost:${config.BERTH_INGRESS_PORT}`);
  console.log(
    `[berth] DynamoDB   ${address.endpoint}${dynamoDbLocal ? `  (data in ${join(config.dataDir, 'dynamodb')}, under its own access key)` : ''}`,
  );
  if (admin.generated) {
    console.log(`[berth] admin key  ${admin.key}`);
    console.log(`[berth]            (shown once; stored in ${join(config.dataDir, 'admin-key')}, mode 0600)`);
  } else {
    console.log(
      `[berth] admin key  ${config.BERTH_ADMIN_KEY ? 'from BERTH_ADMIN_KEY' : `in ${join(config.dataDir, 'admin-key')}`}`,
    );
  }
  console.log('[berth] ready');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[berth] ${signal}: stopping…`);
    await events.stop();
    await Promise.all([loop.stop(), ...jobs.map((job) => job.stop())]);
    tunnels.close();
    await Promise.all([closeServer(api), closeServer(ingress), registry.stop()]);
    runtime.close();
    await dynamoDbLocal?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(`[berth] could not start: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
