import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'electrodb';
import type { UsageRecord } from '../../core/ports.ts';

const service = 'berth';
const str = { type: 'string', required: true } as const;
const num = { type: 'number', required: true } as const;
const doc = { type: 'any', required: true } as const;

const keyAttributes = {
  id: str,
  tenantId: str,
  role: str,
  prefix: str,
  hash: str,
  createdAt: str,
  lastUsedAt: { type: 'string' },
} as const;

/** The ElectroDB entities of the single table. Every tenant-owned entity has tenantId first in its key. */
function entityBuilders(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  return {
    plan: () =>
      new Entity(
        {
          model: { entity: 'plan', version: '1', service },
          attributes: { id: str, name: str, limits: doc, version: num, createdAt: str, updatedAt: str },
          indexes: {
            primary: { pk: { field: 'pk', composite: [] }, sk: { field: 'sk', composite: ['id'] } },
          },
        },
        config,
      ),
    tenant: () =>
      new Entity(
        {
          model: { entity: 'tenant', version: '1', service },
          attributes: {
            id: str,
            name: str,
            plan: str,
            status: str,
            version: num,
            createdAt: str,
            updatedAt: str,
            reservedApps: num,
            reservedVcpuMilli: num,
            reservedMemoryMiB: num,
          },
          indexes: {
            primary: { pk: { field: 'pk', composite: ['id'] }, sk: { field: 'sk', composite: [] } },
            list: {
              index: 'gsi1',
              pk: { field: 'gsi1pk', composite: [] },
              sk: { field: 'gsi1sk', composite: ['id'] },
            },
          },
        },
        config,
      ),
    apiKey: () =>
      new Entity(
        {
          model: { entity: 'apiKey', version: '1', service },
          attributes: keyAttributes,
          indexes: {
            primary: { pk: { field: 'pk', composite: ['tenantId'] }, sk: { field: 'sk', composite: ['id'] } },
          },
        },
        config,
      ),
    /** The same key addressed by its hash, so authentication is one strongly consistent read. */
    keyByHash: () =>
      new Entity(
        {
          model: { entity: 'keyByHash', version: '1', service },
          attributes: keyAttributes,
          indexes: {
            primary: { pk: { field: 'pk', composite: ['hash'] }, sk: { field: 'sk', composite: [] } },
          },
        },
        config,
      ),
    app: () =>
      new Entity(
        {
          model: { entity: 'app', version: '1', service },
          attributes: { tenantId: str, name: str, version: num, body: doc },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['name'] },
            },
          },
        },
        config,
      ),
    revision: () =>
      new Entity(
        {
          model: { entity: 'revision', version: '1', service },
          attributes: {
            tenantId: str,
            appUid: str,
            number: { type: 'number', required: true, padding: { length: 9, char: '0' } },
            body: doc,
          },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId', 'appUid'] },
              sk: { field: 'sk', composite: ['number'] },
            },
          },
        },
        config,
      ),
    deployment: () =>
      new Entity(
        {
          model: { entity: 'deployment', version: '1', service },
          attributes: { tenantId: str, appUid: str, id: str, status: str, body: doc },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId', 'appUid'] },
              sk: { field: 'sk', composite: ['id'] },
            },
          },
        },
        config,
      ),
    appEvent: () =>
      new Entity(
        {
          model: { entity: 'appEvent', version: '1', service },
          attributes: { tenantId: str, appUid: str, id: str, body: doc, expiresAt: num },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId', 'appUid'] },
              sk: { field: 'sk', composite: ['id'] },
            },
          },
        },
        config,
      ),
    lease: () =>
      new Entity(
        {
          model: { entity: 'lease', version: '1', service },
          attributes: { name: str, owner: str, until: num, expiresAt: num },
          indexes: {
            primary: { pk: { field: 'pk', composite: ['name'] }, sk: { field: 'sk', composite: [] } },
          },
        },
        config,
      ),
    idempotency: () =>
      new Entity(
        {
          model: { entity: 'idempotency', version: '1', service },
          attributes: {
            scope: str,
            keyHash: str,
            fingerprint: str,
            state: str,
            lockedUntil: num,
            expiresAt: num,
            response: { type: 'any' },
          },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['scope', 'keyHash'] },
              sk: { field: 'sk', composite: [] },
            },
          },
        },
        config,
      ),
    requestCount: () =>
      new Entity(
        {
          model: { entity: 'requestCount', version: '1', service },
          attributes: { keyId: str, windowStart: num, count: { type: 'number' }, expiresAt: num },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['keyId'] },
              sk: { field: 'sk', composite: ['windowStart'] },
            },
          },
        },
        config,
      ),
    usage: () =>
      new Entity(
        {
          model: { entity: 'usage', version: '1', service },
          attributes: {
            tenantId: str,
            hour: str,
            app: str,
            vcpuMilliSeconds: num,
            memoryMiBSeconds: num,
            instanceSeconds: num,
            shortfallVcpuMilliSeconds: { type: 'number' },
            shortfallMemoryMiBSeconds: { type: 'number' },
            shortfallInstanceSeconds: { type: 'number' },
          },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['hour', 'app'] },
            },
          },
        },
        config,
      ),
    repository: () =>
      new Entity(
        {
          model: { entity: 'repository', version: '1', service },
          attributes: { tenantId: str, name: str, uri: str, createdAt: str },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['name'] },
            },
          },
        },
        config,
      ),
    image: () =>
      new Entity(
        {
          model: { entity: 'image', version: '1', service },
          attributes: {
            tenantId: str,
            repository: str,
            digest: str,
            tags: { type: 'set', items: 'string' },
            pushedAt: str,
            size: num,
          },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId', 'repository'] },
              sk: { field: 'sk', composite: ['digest'] },
            },
          },
        },
        config,
      ),
    lifetime: () =>
      new Entity(
        {
          model: { entity: 'lifetime', version: '1', service },
          attributes: {
            tenantId: str,
            instanceId: str,
            app: str,
            cpu: num,
            memoryMiB: num,
            startedSec: num,
            stoppedSec: { type: 'number' },
            meteredSec: num,
          },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['instanceId'] },
            },
          },
        },
        config,
      ),
    /** A closed lifetime, so a late sighting of its replica can never open it again. */
    closedLifetime: () =>
      new Entity(
        {
          model: { entity: 'closedLifetime', version: '1', service },
          attributes: { tenantId: str, instanceId: str, closedSec: num, expiresAt: num },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['instanceId'] },
            },
          },
        },
        config,
      ),
    billingReport: () =>
      new Entity(
        {
          model: { entity: 'billingReport', version: '1', service },
          attributes: { tenantId: str, period: str, body: doc },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['period'] },
            },
          },
        },
        config,
      ),
    scalerState: () =>
      new Entity(
        {
          model: { entity: 'scalerState', version: '1', service },
          attributes: { tenantId: str, appUid: str, body: doc, expiresAt: num },
          indexes: {
            primary: {
              pk: { field: 'pk', composite: ['tenantId'] },
              sk: { field: 'sk', composite: ['appUid'] },
            },
          },
        },
        config,
      ),
    usageCap: () =>
      new Entity(
        {
          model: { entity: 'usageCap', version: '1', service },
          attributes: { tenantId: str, body: doc, stamp: str },
          indexes: {
            primary: { pk: { field: 'pk', composite: ['tenantId'] }, sk: { field: 'sk', composite: [] } },
          },
        },
        config,
      ),
  };
}

type Builders = ReturnType<typeof entityBuilders>;
export type Entities = { readonly [K in keyof Builders]: ReturnType<Builders[K]> };

/**
 * The entities, each built on first use: ElectroDB validates a model when it is built (2-3 ms each), and a cold
 * start uses only a few of the eighteen.
 */
function makeEntities(client: DynamoDBDocumentClient, table: string): Entities {
  const entities = {} as Entities;
  for (const [name, build] of Object.entries(entityBuilders(client, table))) {
    Object.defineProperty(entities, name, {
      enumerable: true,
      configurable: true,
      get() {
        const entity = build();
        Object.defineProperty(entities, name, { value: entity, enumerable: true });
        return entity;
      },
    });
  }
  return entities;
}

const built = new WeakMap<DynamoDBDocumentClient, Map<string, Entities>>();

/** The table's entities over a client, one set per client and table, shared by the store and the meter store. */
export function entitiesOf(client: DynamoDBDocumentClient, table: string): Entities {
  const byTable = built.get(client) ?? new Map<string, Entities>();
  built.set(client, byTable);
  const entities = byTable.get(table) ?? makeEntities(client, table);
  byTable.set(table, entities);
  return entities;
}

/** The key of an hour's usage row. */
export const usageKey = (u: Pick<UsageRecord, 'tenantId' | 'hour' | 'app'>) => ({
  tenantId: u.tenantId,
  hour: u.hour,
  app: u.app,
});

/** The amounts a meter write adds to a usage row. */
export const usageAmounts = (u: UsageRecord) => ({
  vcpuMilliSeconds: u.vcpuMilliSeconds,
  memoryMiBSeconds: u.memoryMiBSeconds,
  instanceSeconds: u.instanceSeconds,
  shortfallVcpuMilliSeconds: u.shortfallVcpuMilliSeconds,
  shortfallMemoryMiBSeconds: u.shortfallMemoryMiBSeconds,
  shortfallInstanceSeconds: u.shortfallInstanceSeconds,
});

export function toUsageRecord(
  item: Omit<UsageRecord, `shortfall${string}`> & Partial<UsageRecord>,
): UsageRecord {
  return {
    tenantId: item.tenantId,
    app: item.app,
    hour: item.hour,
    vcpuMilliSeconds: item.vcpuMilliSeconds,
    memoryMiBSeconds: item.memoryMiBSeconds,
    instanceSeconds: item.instanceSeconds,
    shortfallVcpuMilliSeconds: item.shortfallVcpuMilliSeconds ?? 0,
    shortfallMemoryMiBSeconds: item.shortfallMemoryMiBSeconds ?? 0,
    shortfallInstanceSeconds: item.shortfallInstanceSeconds ?? 0,
  };
}
