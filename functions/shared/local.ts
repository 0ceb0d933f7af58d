import { hostname } from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type Docker from 'dockerode';
import { DockerRuntime } from '../adapters/docker/runtime.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { NetHealthProbe } from '../adapters/probe/net-health-probe.ts';
import { hashApiKey, makeKeyAuthenticator } from '../core/api-keys.ts';
import type { CoreDeps, PullCredentials } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import type { RateLimitOptions } from '../http/middleware/rate-limit.ts';
import { Reconciler } from '../jobs/reconcile.ts';
import { ReconcileLoop } from '../jobs/reconcile-loop.ts';
import { RoutingTable } from '../local/routing-table.ts';

export interface LocalWiring {
  dynamodb: DynamoDBClient;
  tableName: string;
  adminKey: string;
  ingressPort: number;
  rateLimit: RateLimitOptions;
}

export interface LocalRuntimeWiring {
  docker: Docker;
  /** Scopes the replicas this platform sees on a shared engine. */
  installation: string;
  tickMs: number;
  deploymentDeadlineSeconds: number;
  stopGraceSeconds: number;
  pullCredentials?(tenantId: string, image: string): PullCredentials | undefined;
}

/** Revocation by another process takes effect within this time; in this process, at once. */
const KEY_CACHE_TTL_MS = 1000;
/** How soon an app with replicas on their way is looked at again. */
const BUSY_RECHECK_MS = 100;

const logger = {
  error: (message: string, details: Record<string, unknown>) => console.error(`[berth] ${message}`, details),
};

/** The composition root of local mode: the same API and core over DynamoDB Local. */
export function localDeps(wiring: LocalWiring): ApiDeps {
  const store = new DynamoStore(
    DynamoDBDocumentClient.from(wiring.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    wiring.tableName,
  );
  const core: CoreDeps = {
    store,
    clock: { now: () => new Date() },
    appUrl: (tenantId, app) => `http://${app}.${tenantId}.localhost:${wiring.ingressPort}`,
    runtimes: ['docker'],
  };
  return {
    ...core,
    auth: makeKeyAuthenticator(core, {
      adminKeyHash: hashApiKey(wiring.adminKey),
      cacheTtlMs: KEY_CACHE_TTL_MS,
    }),
    rateLimit: wiring.rateLimit,
    logger,
  };
}

/**
 * Adds the runtime side to local deps: Docker, the reconciler and its loop, and the routing table the ingress
 * reads. API writes nudge the loop, so a deploy starts at once.
 */
export function localRuntime(deps: ApiDeps, wiring: LocalRuntimeWiring) {
  const runtime = new DockerRuntime(wiring.docker, wiring.installation);
  const routes = new RoutingTable();
  const reconciler = new Reconciler({
    ...deps,
    appChanged: (tenantId, app) => deps.appChanged?.(tenantId, app),
    runtime,
    probe: new NetHealthProbe(),
    router: routes,
    pullCredentials: wiring.pullCredentials ?? (() => undefined),
    owner: `${hostname()}:${process.pid}`,
    deploymentDeadlineMs: wiring.deploymentDeadlineSeconds * 1000,
    stopGraceSeconds: wiring.stopGraceSeconds,
  });
  const loop = new ReconcileLoop(reconciler, deps.store, logger, {
    tickMs: wiring.tickMs,
    busyMs: BUSY_RECHECK_MS,
  });
  deps.appChanged = (tenantId, app) => loop.nudge(tenantId, app);
  return { runtime, routes, reconciler, loop };
}
