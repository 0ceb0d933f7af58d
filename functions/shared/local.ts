import { hostname } from 'node:os';
import { inspect } from 'node:util';
import type Docker from 'dockerode';
import { DEFAULT_PRICE_TABLE, type PriceTable } from '../../schemas/billing.ts';
import type { OfferedSizes } from '../../schemas/fargate-sizes.ts';
import { systemHosts } from '../adapters/dns/system-hosts.ts';
import { DockerRuntime } from '../adapters/docker/runtime.ts';
import type { DynamoDbHttp } from '../adapters/dynamodb/dynamodb-http.ts';
import { ExpiredItems } from '../adapters/dynamodb/expired-items.ts';
import { DynamoMeterStore } from '../adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { FileReportArchive } from '../adapters/files/file-report-archive.ts';
import { NetHealthProbe } from '../adapters/probe/net-health-probe.ts';
import { DistributionRegistry } from '../adapters/registry/distribution-registry.ts';
import { LoginCredentialSigner, RegistryTokenIssuer } from '../adapters/registry/registry-tokens.ts';
import { hashApiKey, makeKeyAuthenticator } from '../core/api-keys.ts';
import { localAppHostname } from '../core/app-hosts.ts';
import { platformPull, platformRegistryOf } from '../core/images.ts';
import type { CoreDeps, ReplicaView } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import { auditLogOn } from '../http/middleware/audit.ts';
import type { RateLimitOptions } from '../http/middleware/rate-limit.ts';
import { autoscale } from '../jobs/autoscale.ts';
import { meterUsage } from '../jobs/meter.ts';
import { Reconciler } from '../jobs/reconcile.ts';
import { ReconcileLoop } from '../jobs/reconcile-loop.ts';
import { buildMonthlyReports, type ReportDeps } from '../jobs/report.ts';
import type { ReplicaEventHandlers } from '../local/docker-events.ts';
import { JobTimer } from '../local/job-timer.ts';
import { rememberRegistryAddress } from '../local/registry-addresses.ts';
import type { RegistryAuthDeps } from '../local/registry-auth-routes.ts';
import { REGISTRY_SERVICE, TOKEN_ISSUER } from '../local/registry-process.ts';
import { ensureRegistrySecrets, type RegistrySecrets } from '../local/registry-secrets.ts';
import { RoutingTable } from '../local/routing-table.ts';

export interface LocalWiring {
  dynamodb: DynamoDbHttp;
  tableName: string;
  adminKey: string;
  ingressPort: number;
  rateLimit: RateLimitOptions;
  /** The platform registry: its port on 127.0.0.1 and the directory of its keys and data. */
  registry: { port: number; dir: string };
  prices?: PriceTable;
  sizes?: OfferedSizes;
  /** Where the report job files billing reports as CSV and JSON. */
  reportsDir: string;
}

export type LocalDeps = ApiDeps &
  ReportDeps & {
    registryAuth: RegistryAuthDeps;
    registrySecrets: RegistrySecrets;
    expiredItems: ExpiredItems;
  };

/** How long the credentials the reconciler pulls tenant images with live. */
const PULL_CREDENTIALS_TTL_SECONDS = 600;

export interface LocalRuntimeWiring {
  docker: Docker;
  /** Scopes the replicas this platform sees on a shared engine. */
  installation: string;
  tickMs: number;
  deploymentDeadlineSeconds: number;
  stopGraceSeconds: number;
}

/** The report job closes the previous month; hourly is plenty. */
const REPORT_PERIOD_MS = 3_600_000;
/** How often the images no container uses any more are removed from the engine. */
const IMAGE_COLLECTION_PERIOD_MS = 600_000;
/** How often expired items are deleted from the table: DynamoDB's TTL takes up to a few days. */
const EXPIRY_PERIOD_MS = 3_600_000;
/** How soon an app with replicas on their way is looked at again. */
const BUSY_RECHECK_MS = 100;

/** A record of the platform's log: on one line, so that it reads with grep, but for an error's stack and causes. */
export const logLine = (message: string, details: Record<string, unknown>) =>
  `[berth] ${message} ${inspect(details, { breakLength: Number.POSITIVE_INFINITY })}`;

/** The platform's log in local mode: errors and warnings on stderr, the rest on stdout, each a logLine. */
export const logger = {
  error: (message: string, details: Record<string, unknown>) => console.error(logLine(message, details)),
  warn: (message: string, details: Record<string, unknown>) => console.warn(logLine(message, details)),
  info: (message: string, details: Record<string, unknown>) => console.log(logLine(message, details)),
};

/** The composition root of local mode: the same API and core over DynamoDB Local and the local registry. */
export function localDeps(wiring: LocalWiring): LocalDeps {
  const store = new DynamoStore(wiring.dynamodb, wiring.tableName);
  const registrySecrets = ensureRegistrySecrets(wiring.registry.dir);
  const tokens = new RegistryTokenIssuer({
    privateKeyPem: registrySecrets.privateKeyPem,
    keyId: registrySecrets.keyId,
    issuer: TOKEN_ISSUER,
    service: REGISTRY_SERVICE,
  });
  const logins = new LoginCredentialSigner(registrySecrets.secret);
  const clock = { now: () => new Date() };
  const host = `127.0.0.1:${wiring.registry.port}`;
  const registry = new DistributionRegistry({
    host,
    formerHosts: rememberRegistryAddress(wiring.registry.dir, host),
    store,
    tokens,
    logins,
    now: clock.now,
  });
  const core: CoreDeps = {
    store,
    clock,
    appUrl: (tenantId, app) => `http://${localAppHostname(tenantId, app)}:${wiring.ingressPort}`,
    meter: new DynamoMeterStore(wiring.dynamodb, wiring.tableName),
    prices: wiring.prices ?? DEFAULT_PRICE_TABLE,
    ...(wiring.sizes ? { sizes: wiring.sizes } : {}),
    runtimes: ['docker'],
  };
  return {
    ...core,
    registry,
    hosts: systemHosts,
    reportArchive: new FileReportArchive(wiring.reportsDir),
    auth: makeKeyAuthenticator(core, {
      adminKeyHashes: [hashApiKey(wiring.adminKey)],
      logger,
    }),
    rateLimit: wiring.rateLimit,
    logger,
    audit: auditLogOn(logger),
    registryAuth: {
      store,
      tokens,
      logins,
      registry,
      notifySecret: registrySecrets.secret.toString('hex'),
      logger,
    },
    registrySecrets,
    expiredItems: new ExpiredItems(wiring.dynamodb, wiring.tableName),
  };
}

/**
 * Adds the runtime side to local deps: Docker, the reconciler and its loop, and the routing table the ingress
 * reads. API writes nudge the loop, so a deploy starts at once; so do Docker's events, told to `replicaEvents`.
 */
export function localRuntime(deps: LocalDeps, wiring: LocalRuntimeWiring) {
  const pullOf = (tenantId: string, image: string) => {
    const pulled = platformPull(image, deps.registry);
    if (pulled === undefined) return { image };
    const login = deps.registryAuth.logins.mint(tenantId, PULL_CREDENTIALS_TTL_SECONDS);
    return {
      image: pulled,
      credentials: { registry: deps.registry.host, username: login.username, password: login.password },
    };
  };
  const runtime = new DockerRuntime(wiring.docker, wiring.installation);
  const routes = new RoutingTable();
  const reconciler = new Reconciler({
    ...deps,
    appChanged: (app) => deps.appChanged?.(app),
    runtime,
    probe: new NetHealthProbe(),
    router: routes,
    pullOf,
    // The same across restarts: one platform at a time runs an installation on a machine (lockInstallation), so the
    // one started after another was killed takes that one's leases at once instead of waiting for them to run out.
    owner: `${hostname()}:${wiring.installation}`,
    deploymentDeadlineMs: wiring.deploymentDeadlineSeconds * 1000,
    // Its health checks begin with it: a deployment the platform was stopped through is given its deadline anew.
    watchingSince: deps.clock.now(),
    stopGraceSeconds: wiring.stopGraceSeconds,
  });
  const loop = new ReconcileLoop(reconciler, deps.store, logger, {
    tickMs: wiring.tickMs,
    busyMs: BUSY_RECHECK_MS,
  });
  const docker: ReplicaView = {
    // The replicas Docker has, and those it removed after they stopped, as ECS lists stopped tasks.
    runtime: {
      listReplicas: async (filter) => {
        const live = await runtime.listReplicas(filter);
        const ids = new Set(live.map((r) => r.id));
        return [...live, ...runtime.listRetired(filter).filter((r) => !ids.has(r.id))];
      },
    },
    logs: runtime,
    metrics: runtime,
    replicaInsights: async (_app, replicas) =>
      new Map(replicas.map((replica) => [replica.id, reconciler.replicaView(replica)])),
  };
  const jobs = [
    new JobTimer('meter', () => meterUsage({ ...deps, runtime }), wiring.tickMs, logger),
    new JobTimer('scale', () => autoscale({ ...deps, views: { docker } }), wiring.tickMs, logger),
    new JobTimer('report', () => buildMonthlyReports(deps), REPORT_PERIOD_MS, logger),
    // Only images Berth pulled from the platform registry: an image the operator has in the engine is theirs.
    new JobTimer(
      'images',
      () => runtime.removeUnusedImages((image) => platformRegistryOf(image, deps.registry) !== undefined),
      IMAGE_COLLECTION_PERIOD_MS,
      logger,
    ),
    new JobTimer('expiry', () => deps.expiredItems.delete(deps.clock.now()), EXPIRY_PERIOD_MS, logger),
  ];
  deps.appChanged = (app) => loop.nudge(app.tenantId, app.name);
  deps.views = { docker };
  /** What Docker's events of the replicas are told to (watchDockerEvents). */
  const replicaEvents: ReplicaEventHandlers = {
    changed: (tenantId, app) => loop.nudge(tenantId, app),
    signalled: (id, signal) => runtime.signalledBy(id, signal),
  };
  return { runtime, routes, reconciler, loop, jobs, replicaEvents };
}
