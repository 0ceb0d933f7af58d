import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { inject } from 'vitest';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { generateApiKey } from '../../functions/core/api-keys.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import { createApi } from '../../functions/http/api.ts';
import type { AuditEntry } from '../../functions/http/middleware/audit.ts';
import type { RateLimitOptions } from '../../functions/http/middleware/rate-limit.ts';
import { type DynamoDbLocalAddress, localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { startRegistry } from '../../functions/local/registry-process.ts';
import { localDeps, localRuntime } from '../../functions/shared/local.ts';
import { contractBreaches } from './api-contract.ts';
import { eventually } from './ingress-client.ts';

/** Nothing listens here: the push notifications and token realm of a registry whose tests do not use them. */
export const NOWHERE = 'http://127.0.0.1:1';

/**
 * The registry process of a local API made with `registryPort`, on that port and the API's registry directory,
 * sending its notifications and clients NOWHERE.
 */
export function startLocalApiRegistry(setup: Awaited<ReturnType<typeof localApi>>) {
  return startRegistry({
    dir: setup.wiring.registry.dir,
    port: setup.wiring.registry.port,
    realm: `${NOWHERE}/registry/auth`,
    notifyUrl: `${NOWHERE}/registry/events`,
    notifySecret: setup.deps.registryAuth.notifySecret,
    certificatePath: setup.deps.registrySecrets.certificatePath,
  });
}

/** A port nothing listens on in tests that run without the registry process. */
const REGISTRY_PORT_UNUSED = 1;

const NO_RATE_LIMIT: RateLimitOptions = { ratePerSecond: 1e9, burst: 1e9 };

/** The real API over the run's DynamoDB Local, on a fresh table, with the local composition root. */
export async function localApi(
  options: {
    rateLimit?: RateLimitOptions;
    dynamodb?: DynamoDbLocalAddress;
    runtime?: boolean;
    tickMs?: number;
    /** Where the test runs a registry process of its own; none runs by default. */
    registryPort?: number;
    /** How long a replica being stopped has before it is killed; 1 s by default. */
    stopGraceSeconds?: number;
  } = {},
) {
  const dynamodb = localDynamoDbClient(options.dynamodb ?? inject('dynamodb'));
  const tableName = `t-${randomUUID()}`;
  await ensureTable(dynamodb, tableName);
  const adminKey = generateApiKey();
  const wiring = {
    dynamodb,
    tableName,
    adminKey,
    ingressPort: 8000,
    rateLimit: options.rateLimit ?? NO_RATE_LIMIT,
    // Unless the test runs one, no registry process runs: images come from the engine's local store.
    registry: {
      port: options.registryPort ?? REGISTRY_PORT_UNUSED,
      dir: mkdtempSync(join(tmpdir(), 'berth-registry-')),
    },
    reportsDir: mkdtempSync(join(tmpdir(), 'berth-reports-')),
  };
  // The audit log kept for the test to read, rather than printed.
  const audited: AuditEntry[] = [];
  const deps = { ...localDeps(wiring), audit: { record: (entry: AuditEntry) => void audited.push(entry) } };
  await seedPlans(deps);
  const api = createApi(deps);
  const runtime = options.runtime
    ? localRuntime(deps, {
        docker: new Docker(),
        installation: tableName,
        tickMs: options.tickMs ?? 1000,
        deploymentDeadlineSeconds: 60,
        stopGraceSeconds: options.stopGraceSeconds ?? 1,
      })
    : undefined;
  return { api, deps, wiring, adminKey, dynamodb, tableName, runtime, audited, ...clientFor(api, adminKey) };
}

/** `localApi` with the local runtime (reconcile loop, Docker) wired: for tests that run containers. */
export async function localApiOnDocker(
  options: Omit<NonNullable<Parameters<typeof localApi>[0]>, 'runtime'> = {},
) {
  const api = await localApi({ ...options, runtime: true });
  const { runtime } = api;
  if (!runtime) throw new Error('runtime not wired');
  return { ...api, runtime };
}

type Fetchable = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** Small request helpers bound to one API. */
export function clientFor(api: Fetchable, adminKey: string) {
  async function call(
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await api.request(path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const breaches = contractBreaches(
      { method, path },
      { status: res.status, contentType: res.headers.get('content-type'), text, headers: res.headers },
    );
    if (breaches.length) throw new Error(`the answer breaks schemas/openapi.json:\n${breaches.join('\n')}`);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: json as Record<string, unknown> & { code?: string },
    };
  }
  async function createTenant(id: string, plan = 'pro') {
    const res = await call('POST', '/v1/tenants', adminKey, { id, name: id.toUpperCase(), plan });
    if (res.status !== 201) throw new Error(`could not create tenant ${id}: ${res.text}`);
    return (res.json as { apiKey: { key: string; id: string } }).apiKey;
  }
  /** Makes plan `id` with `limits`, named after it, as the admin does. */
  async function createPlan(id: string, limits: Record<string, number>) {
    const res = await call('POST', '/v1/plans', adminKey, { id, name: id.toUpperCase(), limits });
    if (res.status !== 201) throw new Error(`could not create plan ${id}: ${res.text}`);
  }
  return { call, createTenant, createPlan };
}

export const sampleApp = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: inject('testImage'),
  cpu: 0.25,
  memory: 512,
  port: 8080,
  ...extra,
});

/** Waits until an app answers 404: a deleted app goes once the reconciler has removed its replicas. */
export function untilAppGone(
  call: ReturnType<typeof clientFor>['call'],
  key: string,
  app: string,
  timeoutMs?: number,
) {
  return eventually(
    `app ${app} to be gone`,
    async () => ((await call('GET', `/v1/apps/${app}`, key)).status === 404 ? true : undefined),
    timeoutMs,
  );
}
