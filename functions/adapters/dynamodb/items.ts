import type { UsageRecord } from '../../core/ports.ts';

export interface Key {
  pk: string;
  sk: string;
}

/**
 * Where each record lives in the single table. Everything a tenant owns sits under a partition that starts with its
 * id, so a query can never reach past the tenant whose key made it; an app's revisions, deployments and events sit
 * under the app's incarnation (its uid). A sort key starts with its kind, so a query for one kind is a prefix.
 */
const tenantPartition = (tenantId: string) => `tenant#${tenantId}`;
const appPartition = (tenantId: string, appUid: string) => `app#${tenantId}#${appUid}`;
const repositoryPartition = (tenantId: string, repository: string) => `repository#${tenantId}#${repository}`;

/** Revision numbers sort as text: 9 digits outlast any app (a billion revisions). */
const revisionNumber = (n: number) => String(n).padStart(9, '0');

export const PREFIX = {
  plan: 'plan#',
  apiKey: 'key#',
  app: 'app#',
  revision: 'revision#',
  deployment: 'deployment#',
  appEvent: 'event#',
  usage: 'usage#',
  repository: 'repository#',
  image: 'image#',
  lifetime: 'lifetime#',
} as const;

export const PARTITION = {
  plans: 'plans',
  /** The gsi1 partition that lists every tenant. */
  tenants: 'tenants',
  tenant: tenantPartition,
  app: appPartition,
  repository: repositoryPartition,
};

export const key = {
  plan: (id: string): Key => ({ pk: PARTITION.plans, sk: `${PREFIX.plan}${id}` }),
  tenant: (id: string): Key => ({ pk: tenantPartition(id), sk: 'tenant' }),
  /** What is left of a deleted tenant: its id is never used again (see Store.deleteTenant). */
  deletedTenant: (id: string): Key => ({ pk: tenantPartition(id), sk: 'deleted-tenant' }),
  apiKey: (tenantId: string, id: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `${PREFIX.apiKey}${id}`,
  }),
  /** The same key addressed by its hash, so authentication is one strongly consistent read. */
  keyByHash: (hash: string): Key => ({ pk: `key-hash#${hash}`, sk: 'key' }),
  app: (tenantId: string, name: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `${PREFIX.app}${name}`,
  }),
  revision: (tenantId: string, appUid: string, n: number): Key => ({
    pk: appPartition(tenantId, appUid),
    sk: `${PREFIX.revision}${revisionNumber(n)}`,
  }),
  deployment: (tenantId: string, appUid: string, id: string): Key => ({
    pk: appPartition(tenantId, appUid),
    sk: `${PREFIX.deployment}${id}`,
  }),
  appEvent: (tenantId: string, appUid: string, id: string): Key => ({
    pk: appPartition(tenantId, appUid),
    sk: `${PREFIX.appEvent}${id}`,
  }),
  lease: (name: string): Key => ({ pk: `lease#${name}`, sk: 'lease' }),
  idempotency: (scope: string, keyHash: string): Key => ({
    pk: `idempotency#${scope}#${keyHash}`,
    sk: 'claim',
  }),
  requestCount: (caller: string, windowStart: number): Key => ({
    pk: `requests#${caller}`,
    sk: `window#${windowStart}`,
  }),
  usage: (u: Pick<UsageRecord, 'tenantId' | 'hour' | 'app'>): Key => ({
    pk: tenantPartition(u.tenantId),
    sk: `${PREFIX.usage}${u.hour}#${u.app}`,
  }),
  repository: (tenantId: string, name: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `${PREFIX.repository}${name}`,
  }),
  image: (tenantId: string, repository: string, digest: string): Key => ({
    pk: repositoryPartition(tenantId, repository),
    sk: `${PREFIX.image}${digest}`,
  }),
  lifetime: (tenantId: string, instanceId: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `${PREFIX.lifetime}${instanceId}`,
  }),
  /** A closed lifetime, so a late sighting of its replica can never open it again. */
  closedLifetime: (tenantId: string, instanceId: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `closed-lifetime#${instanceId}`,
  }),
  billingReport: (tenantId: string, period: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `report#${period}`,
  }),
  scalerState: (tenantId: string, appUid: string): Key => ({
    pk: tenantPartition(tenantId),
    sk: `scaler#${appUid}`,
  }),
  usageCap: (tenantId: string): Key => ({ pk: tenantPartition(tenantId), sk: 'usage-cap' }),
  /** The price table a month is billed by, the install's own (no tenant's). */
  monthPrices: (period: string): Key => ({ pk: 'prices', sk: `month#${period}` }),
  /** The last month whose every report is final (the report job's watermark). */
  reportsFinal: (): Key => ({ pk: 'reports', sk: 'final-through' }),
};

/** The usage rows of a tenant from one hour to another, both included (`~` sorts after every app name). */
export const usageHours = (fromHour: string, toHour: string): [string, string] => [
  `${PREFIX.usage}${fromHour}`,
  `${PREFIX.usage}${toHour}~`,
];

/** The amounts a meter write adds to a usage row. */
export const usageAmounts = (u: UsageRecord) => ({
  vcpuMilliSeconds: u.vcpuMilliSeconds,
  memoryMiBSeconds: u.memoryMiBSeconds,
  instanceSeconds: u.instanceSeconds,
  shortfallVcpuMilliSeconds: u.shortfallVcpuMilliSeconds,
  shortfallMemoryMiBSeconds: u.shortfallMemoryMiBSeconds,
  shortfallInstanceSeconds: u.shortfallInstanceSeconds,
});

const amount = (item: Record<string, unknown>, name: string) => Number(item[name] ?? 0);

export function toUsageRecord(item: Record<string, unknown>): UsageRecord {
  return {
    tenantId: String(item.tenantId),
    app: String(item.app),
    hour: String(item.hour),
    vcpuMilliSeconds: amount(item, 'vcpuMilliSeconds'),
    memoryMiBSeconds: amount(item, 'memoryMiBSeconds'),
    instanceSeconds: amount(item, 'instanceSeconds'),
    shortfallVcpuMilliSeconds: amount(item, 'shortfallVcpuMilliSeconds'),
    shortfallMemoryMiBSeconds: amount(item, 'shortfallMemoryMiBSeconds'),
    shortfallInstanceSeconds: amount(item, 'shortfallInstanceSeconds'),
  };
}
