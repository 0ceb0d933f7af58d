import type { Page } from '../../../schemas/common.ts';
import type { Plan } from '../../../schemas/plan.ts';
import type { Image } from '../../../schemas/repository.ts';
import { codeUnitOrder } from '../../core/code-unit-order.ts';
import {
  ConflictError,
  DeploymentMovedError,
  DomainError,
  ForbiddenError,
  QuotaExceededError,
  TenantHasAppsError,
  TenantIdTakenError,
  TenantNotFoundError,
  UnavailableError,
  WriteConflictError,
} from '../../core/errors.ts';
import type {
  ApiKeyRecord,
  AppEventRecord,
  AppRecord,
  AppWrite,
  BilledTenant,
  DeletedTenant,
  DeploymentRecord,
  IdempotencyRecord,
  PageRequest,
  QuotaCheck,
  RepositoryRecord,
  RevisionRecord,
  RolloutWrite,
  ScalerState,
  Store,
  TenantRecord,
  UsageCapState,
  UsageRecord,
} from '../../core/ports.ts';
import { assertWithinLimits, reservationCeilings, reservationOf } from '../../core/quota.ts';
import type { DynamoDbHttp } from './dynamodb-http.ts';
import { conditionally, guarded } from './errors.ts';
import {
  absent,
  allOf,
  anyOf,
  atLeast,
  atMost,
  type Condition,
  equals,
  exists,
  lessThan,
} from './expressions.ts';
import { key, PARTITION, PREFIX, toUsageRecord, usageHours } from './items.ts';
import { type Item, SingleTable, type TransactItem } from './single-table.ts';

type Fields = Record<string, unknown>;

/**
 * The tenant item's count of its keys. Tenants stored before it existed lack it and start counting from the next
 * key, so for them the limit is looser by the keys they had, never tighter.
 */
const KEY_COUNT = 'keyCount';
/**
 * The tenant item's count of its repositories, the same way: looser for a tenant older than it by the repositories it
 * had. A deletion lowers it after the record is gone, never below 0, so one that stops between the two leaves it one
 * high: tighter by one, never looser.
 */
const REPOSITORY_COUNT = 'repositoryCount';

function page<T>(items: Fields[], cursor: string | null, read: (item: Fields) => T): Page<T> {
  return { items: items.map(read), nextCursor: cursor };
}

/** The record an item holds in `body`. */
const bodyOf = <T>(item: Fields) => item.body as T;

/** A record stored field by field, without the table's keys. */
function fieldsOf<T>({ pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...fields }: Fields): T {
  return fields as T;
}

function toTenantRecord(item: Fields): TenantRecord {
  const {
    reservedApps,
    reservedVcpuMilli,
    reservedMemoryMiB,
    status,
    [KEY_COUNT]: _keyCount,
    ...tenant
  } = fieldsOf<
    Omit<TenantRecord, 'reserved' | 'status'> & {
      status: string;
      reservedApps: number;
      reservedVcpuMilli: number;
      reservedMemoryMiB: number;
      [KEY_COUNT]?: number;
    }
  >(item);
  return {
    ...tenant,
    status: status === 'suspended' ? 'suspended' : 'active',
    reserved: { apps: reservedApps, vcpuMilli: reservedVcpuMilli, memoryMiB: reservedMemoryMiB },
  };
}

function toKeyRecord(item: Fields): ApiKeyRecord {
  const key = fieldsOf<Omit<ApiKeyRecord, 'name' | 'lastUsedAt'> & { name?: string; lastUsedAt?: string }>(
    item,
  );
  return {
    id: key.id,
    tenantId: key.tenantId,
    // Keys made before keys had names have none.
    name: key.name ?? null,
    role: 'tenant',
    prefix: key.prefix,
    hash: key.hash,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt ?? null,
  };
}

function keyFields({ name, lastUsedAt, ...key }: ApiKeyRecord) {
  return { ...key, ...(name ? { name } : {}), ...(lastUsedAt ? { lastUsedAt } : {}) };
}

/**
 * On gsi1's tenants partition, a deleted tenant sorts after every tenant there (ids are DNS labels, all below `~`), so
 * the tenants there are one range of it and billing's listing goes on from them to the deleted ones.
 */
const DELETED_TENANT_SORT = '~deleted#';
const TENANTS_THERE: [string, string] = ['0', '~'];

/** A tenant there, or a deleted one (its tombstone). */
function billedTenantOf(item: Fields): BilledTenant {
  if (item.deletedAt === undefined) return toTenantRecord(item);
  const { id, createdAt, deletedAt } = fieldsOf<DeletedTenant>(item);
  return { id, createdAt, deletedAt };
}

function tenantItem({ reserved, ...tenant }: TenantRecord): Item {
  return {
    ...key.tenant(tenant.id),
    gsi1pk: PARTITION.tenants,
    gsi1sk: tenant.id,
    ...tenant,
    reservedApps: reserved.apps,
    reservedVcpuMilli: reserved.vcpuMilli,
    reservedMemoryMiB: reserved.memoryMiB,
  };
}

/** A plan as stored; one written before plans could be archived is not. */
function planOf(item: Fields): Plan {
  const plan = fieldsOf<Omit<Plan, 'archived'> & { archived?: boolean }>(item);
  return { ...plan, archived: plan.archived ?? false };
}

const appItem = (app: AppRecord): Item => ({
  ...key.app(app.tenantId, app.name),
  version: app.version,
  body: app,
});
const revisionItem = (r: RevisionRecord): Item => ({
  ...key.revision(r.tenantId, r.appUid, r.number),
  body: r,
});
const deploymentItem = (d: DeploymentRecord): Item => ({
  ...key.deployment(d.tenantId, d.appUid, d.id),
  status: d.status,
  body: d,
});

const versionIs = (version: number) => equals('version', version);

/** Listings a tenant's deletion takes while keys keep being created for it, before it gives up (412). */
const DELETE_TENANT_ATTEMPTS = 3;

/** A lease item outlives its lease by an hour (its `takenAt` still tells which asks a pass covered), then expires. */
const leaseExpiry = (untilMs: number) => Math.ceil(untilMs / 1000) + 3600;

/** What a lease item holds from the moment a pass takes it: until when, since when, and no ask for another pass. */
const leaseTaken = (untilMs: number, nowMs: number) => ({
  until: untilMs,
  takenAt: nowMs,
  again: false,
  expiresAt: leaseExpiry(untilMs),
});

/** An app's autoscaler memory outlives any stabilization window by far. */
const SCALER_STATE_RETENTION_SECONDS = 24 * 3600;
/** App events are kept this long. */
const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;

/** An app's event as its item, kept EVENT_RETENTION_SECONDS from when it happened. */
export const appEventItem = (event: AppEventRecord): Item => ({
  ...key.appEvent(event.tenantId, event.appUid, event.id),
  body: event,
  expiresAt: Math.floor(Date.parse(event.at) / 1000) + EVENT_RETENTION_SECONDS,
});

/**
 * The Store on one DynamoDB table (items.ts names where each record lives). Writes that must be atomic with a quota
 * or version check are transactions.
 *
 * @example
 * const store = new DynamoStore(new DynamoDbHttp({ region: 'eu-west-1', credentials }), 'berth');
 */
export class DynamoStore implements Store {
  private readonly table: SingleTable;

  constructor(dynamodb: DynamoDbHttp, tableName: string) {
    this.table = new SingleTable(dynamodb, tableName);
  }

  // Plans

  async createPlan(plan: Plan): Promise<void> {
    if (!(await conditionally(() => this.table.put({ ...key.plan(plan.id), ...plan }, absent())))) {
      throw new ConflictError('plan.exists', `plan "${plan.id}" already exists`);
    }
  }

  getPlan(id: string): Promise<Plan | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.plan(id));
      return item && planOf(item);
    });
  }

  listPlans({ limit, cursor }: PageRequest): Promise<Page<Plan>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.plans, prefix: PREFIX.plan },
        { limit, cursor },
      );
      return page(res.items, res.cursor, planOf);
    });
  }

  async updatePlan(plan: Plan, expectedVersion: number): Promise<void> {
    const written = await conditionally(() =>
      this.table.put({ ...key.plan(plan.id), ...plan }, versionIs(expectedVersion)),
    );
    if (!written) throw new WriteConflictError();
  }

  // Tenants and keys

  async createTenant(tenant: TenantRecord, firstKey: ApiKeyRecord): Promise<void> {
    const { cancelled } = await this.table.transact([
      this.table.putItem({ ...tenantItem(tenant), [KEY_COUNT]: 1 }, absent()),
      this.table.checkItem(key.deletedTenant(tenant.id), absent()),
      ...this.keyItems(firstKey),
    ]);
    if (!cancelled) return;
    const deleted = await this.table.get(key.deletedTenant(tenant.id));
    throw new TenantIdTakenError(tenant.id, deleted?.deletedAt as string | undefined);
  }

  getTenant(id: string): Promise<TenantRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.tenant(id));
      return item && toTenantRecord(item);
    });
  }

  getBilledTenant(id: string): Promise<BilledTenant | undefined> {
    return guarded(async () => {
      const item = (await this.table.get(key.tenant(id))) ?? (await this.table.get(key.deletedTenant(id)));
      return item && billedTenantOf(item);
    });
  }

  listTenants({ limit, cursor }: PageRequest): Promise<Page<TenantRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.tenants, index: 'gsi1', between: TENANTS_THERE },
        { limit, cursor },
      );
      return page(res.items, res.cursor, toTenantRecord);
    });
  }

  listBilledTenants({ limit, cursor }: PageRequest): Promise<Page<BilledTenant>> {
    return guarded(async () => {
      const res = await this.table.page({ partition: PARTITION.tenants, index: 'gsi1' }, { limit, cursor });
      return page(res.items, res.cursor, billedTenantOf);
    });
  }

  async updateTenant(tenant: TenantRecord, expectedVersion: number): Promise<void> {
    const written = await conditionally(() =>
      this.table.update(
        key.tenant(tenant.id),
        {
          set: {
            name: tenant.name,
            plan: tenant.plan,
            status: tenant.status,
            version: tenant.version,
            updatedAt: tenant.updatedAt,
            ...(tenant.resumedAt ? { resumedAt: tenant.resumedAt } : {}),
          },
        },
        allOf(exists(), versionIs(expectedVersion)),
      ),
    );
    if (!written) throw new WriteConflictError();
  }

  async deleteTenant(tenant: TenantRecord, deletedAt: string): Promise<string[]> {
    const { id, version: expectedVersion } = tenant;
    for (let attempt = 1; ; attempt++) {
      const keys = await this.listApiKeys(id, { limit: 45 });
      // A key created after the listing raises the count past it and cancels the deletion.
      const noKeyMissed = anyOf(absent(KEY_COUNT), atMost(KEY_COUNT, keys.items.length));
      const { cancelled } = await this.table.transact([
        this.table.deleteItem(
          key.tenant(id),
          allOf(versionIs(expectedVersion), equals('reservedApps', 0), noKeyMissed),
        ),
        ...keys.items.flatMap((k) => [
          this.table.deleteItem(key.apiKey(id, k.id)),
          this.table.deleteItem(key.keyByHash(k.hash)),
        ]),
        this.table.putItem({
          ...key.deletedTenant(id),
          gsi1pk: PARTITION.tenants,
          gsi1sk: `${DELETED_TENANT_SORT}${id}`,
          id,
          createdAt: tenant.createdAt,
          deletedAt,
        }),
      ]);
      if (!cancelled) return keys.items.map((k) => k.hash);
      const current = await this.getTenant(id);
      if (!current) throw new TenantNotFoundError(id);
      if (current.reserved.apps > 0) throw new TenantHasAppsError(id, current.reserved.apps);
      // Still the version asked for: a key came after the listing, so list again (the caller's If-Match holds).
      if (current.version !== expectedVersion || attempt >= DELETE_TENANT_ATTEMPTS) {
        throw new WriteConflictError();
      }
    }
  }

  /** A key is two items: by tenant and id (to list and revoke) and by hash (to authenticate). */
  private keyItems(apiKey: ApiKeyRecord): TransactItem[] {
    return [
      this.table.putItem({ ...key.apiKey(apiKey.tenantId, apiKey.id), ...keyFields(apiKey) }, absent()),
      this.table.putItem({ ...key.keyByHash(apiKey.hash), ...keyFields(apiKey) }, absent()),
    ];
  }

  async createApiKey(apiKey: ApiKeyRecord, maxPerTenant: number): Promise<void> {
    const { cancelled } = await this.table.transact([
      ...this.keyItems(apiKey),
      this.countOnTenant(apiKey.tenantId, KEY_COUNT, maxPerTenant),
    ]);
    if (!cancelled) return;
    await this.countRefused(apiKey.tenantId, `a tenant may hold ${maxPerTenant} keys; revoke one first`);
  }

  /** Adds one to a count on the tenant's item, unless the tenant is gone or the count has reached `max`. */
  private countOnTenant(tenantId: string, count: string, max: number): TransactItem {
    return this.table.updateItem(
      key.tenant(tenantId),
      { add: { [count]: 1 } },
      allOf(exists(), anyOf(absent(count), lessThan(count, max))),
    );
  }

  /** Why `countOnTenant` cancelled its transaction: the tenant is gone (404), or the count is at its cap. */
  private async countRefused(tenantId: string, atCap: string): Promise<never> {
    if (!(await this.getTenant(tenantId))) {
      throw new TenantNotFoundError(tenantId);
    }
    throw new QuotaExceededError(atCap);
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.keyByHash(hash));
      return item && toKeyRecord(item);
    });
  }

  listApiKeys(tenantId: string, { limit, cursor }: PageRequest): Promise<Page<ApiKeyRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.tenant(tenantId), prefix: PREFIX.apiKey },
        { limit, cursor },
      );
      return page(res.items, res.cursor, toKeyRecord);
    });
  }

  async deleteApiKey(tenantId: string, keyId: string, keep?: string): Promise<ApiKeyRecord | undefined> {
    const found = await guarded(async () => {
      const item = await this.table.get(key.apiKey(tenantId, keyId));
      return item && toKeyRecord(item);
    });
    if (!found) return undefined;
    const { cancelled } = await this.table.transact([
      this.table.deleteItem(key.apiKey(tenantId, keyId), exists()),
      this.table.deleteItem(key.keyByHash(found.hash)),
      this.table.updateItem(key.tenant(tenantId), { add: { [KEY_COUNT]: -1 } }, exists()),
      ...(keep ? [this.table.checkItem(key.apiKey(tenantId, keep), exists())] : []),
    ]);
    if (cancelled?.[3] === 'ConditionalCheckFailed') {
      throw new DomainError('auth.invalidKey', 'the key this request came with was revoked meanwhile');
    }
    // Cancelled otherwise: revoked by a parallel request, or gone with its tenant.
    return cancelled ? undefined : found;
  }

  async touchApiKey(apiKey: ApiKeyRecord, at: string): Promise<void> {
    // Best effort: a key revoked meanwhile simply stays deleted (the conditions fail and nothing is written).
    await this.table.transact([
      this.table.updateItem(key.apiKey(apiKey.tenantId, apiKey.id), { set: { lastUsedAt: at } }, exists()),
      this.table.updateItem(key.keyByHash(apiKey.hash), { set: { lastUsedAt: at } }, exists()),
    ]);
  }

  // Apps

  /**
   * Adds `delta` to the tenant's reservation, on condition it stays on the same plan, within limits, and active
   * (unless the write may be made while suspended).
   */
  private reserve(tenantId: string, { plan, delta, evenIfSuspended, restores }: QuotaCheck): TransactItem {
    const ceilings = reservationCeilings(plan.limits, delta);
    const conditions: Condition[] = [equals('plan', plan.id)];
    if (!evenIfSuspended) conditions.push(equals('status', 'active'));
    const bounded = !restores;
    if (bounded && delta.apps > 0) conditions.push(atMost('reservedApps', ceilings.apps));
    if (bounded && delta.vcpuMilli > 0) conditions.push(atMost('reservedVcpuMilli', ceilings.vcpuMilli));
    if (bounded && delta.memoryMiB > 0) conditions.push(atMost('reservedMemoryMiB', ceilings.memoryMiB));
    return this.table.updateItem(
      key.tenant(tenantId),
      {
        add: {
          reservedApps: delta.apps,
          reservedVcpuMilli: delta.vcpuMilli,
          reservedMemoryMiB: delta.memoryMiB,
        },
      },
      allOf(...conditions),
    );
  }

  /** Explains a cancelled app transaction: [app, tenant, plan, ended?, ...rest]. */
  private async explainCancelledAppWrite(
    write: AppWrite,
    codes: string[],
    appFailure: Error,
  ): Promise<never> {
    const [appCode, tenantCode, planCode, endedCode] = codes;
    if (appCode === 'ConditionalCheckFailed') throw appFailure;
    if (write.ended && endedCode === 'ConditionalCheckFailed')
      throw new DeploymentMovedError(write.ended.record);
    if (planCode === 'ConditionalCheckFailed') throw new WriteConflictError();
    if (tenantCode === 'ConditionalCheckFailed') {
      const tenant = await this.getTenant(write.app.tenantId);
      if (!tenant) throw new TenantNotFoundError(write.app.tenantId);
      if (tenant.status !== 'active') {
        throw new ForbiddenError(
          'tenant.suspended',
          `tenant "${tenant.id}" is suspended; its writes are refused`,
        );
      }
      if (tenant.plan !== write.quota.plan.id) throw new WriteConflictError();
      assertWithinLimits(write.quota.plan.id, write.quota.plan.limits, tenant.reserved, write.quota.delta);
      throw new WriteConflictError();
    }
    throw new UnavailableError('the write was cancelled; retry shortly');
  }

  private appWriteItems(write: AppWrite, appCondition: Condition): TransactItem[] {
    return [
      this.table.putItem(appItem(write.app), appCondition),
      this.reserve(write.app.tenantId, write.quota),
      // The plan's limits may not change between the check and the write.
      this.table.checkItem(key.plan(write.quota.plan.id), versionIs(write.quota.plan.version)),
      ...(write.ended
        ? [this.table.putItem(deploymentItem(write.ended.record), equals('body', write.ended.read))]
        : []),
      ...(write.revision ? [this.table.putItem(revisionItem(write.revision), absent())] : []),
      ...(write.deployment ? [this.table.putItem(deploymentItem(write.deployment), absent())] : []),
      ...(write.event ? [this.table.putItem(appEventItem(write.event))] : []),
    ];
  }

  async createApp(write: AppWrite): Promise<void> {
    const { cancelled } = await this.table.transact(this.appWriteItems(write, absent()));
    if (cancelled) {
      await this.explainCancelledAppWrite(
        write,
        cancelled,
        new ConflictError(
          'app.exists',
          `app "${write.app.name}" already exists; pick another name or PATCH it`,
        ),
      );
    }
  }

  async updateApp(write: AppWrite & { read: AppRecord }): Promise<void> {
    // The stored app must be the very one read, not only of its version: a reconcile pass writes what it observed
    // (status, ready replicas, the revision live) under the same version, which this write would otherwise undo.
    const { cancelled } = await this.table.transact(this.appWriteItems(write, equals('body', write.read)));
    if (cancelled) await this.explainCancelledAppWrite(write, cancelled, new WriteConflictError());
  }

  async writeRollout({ app, deployment, events = [] }: RolloutWrite): Promise<boolean> {
    const writes: [Item, Condition | undefined][] = [
      ...(app ? [[appItem(app.record), equals('body', app.read)] as [Item, Condition]] : []),
      ...(deployment
        ? [[deploymentItem(deployment.record), equals('body', deployment.read)] as [Item, Condition]]
        : []),
      ...events.map((event) => [appEventItem(event), undefined] as [Item, undefined]),
    ];
    const [only, ...others] = writes;
    if (!only) return true;
    if (others.length === 0) return conditionally(() => this.table.put(...only));
    const { cancelled } = await this.table.transact(writes.map((write) => this.table.putItem(...write)));
    return !cancelled;
  }

  async finalizeAppDeletion(app: AppRecord): Promise<void> {
    const held = reservationOf(app);
    const { cancelled } = await this.table.transact([
      // Of this incarnation only: a late finalizing must not take an app made again under its name.
      this.table.deleteItem(
        key.app(app.tenantId, app.name),
        allOf(versionIs(app.version), equals('body.uid', app.uid)),
      ),
      this.table.updateItem(
        key.tenant(app.tenantId),
        {
          add: {
            reservedApps: -held.apps,
            reservedVcpuMilli: -held.vcpuMilli,
            reservedMemoryMiB: -held.memoryMiB,
          },
        },
        exists(),
      ),
    ]);
    if (cancelled) throw new WriteConflictError();
    await this.deleteChildren(app);
  }

  updateDeployment(deployment: DeploymentRecord, read: DeploymentRecord) {
    return conditionally(() => this.table.put(deploymentItem(deployment), equals('body', read)));
  }

  async addAppEvent(event: AppEventRecord): Promise<void> {
    await guarded(() => this.table.put(appEventItem(event)));
  }

  getUsageCapState(tenantId: string): Promise<UsageCapState | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.usageCap(tenantId));
      return item && bodyOf<UsageCapState>(item);
    });
  }

  putUsageCapState(
    tenantId: string,
    state: UsageCapState,
    expected: UsageCapState | undefined,
  ): Promise<boolean> {
    // DynamoDB compares maps by what they hold, whatever the order of their keys (which it does not keep).
    return conditionally(() =>
      this.table.put(
        { ...key.usageCap(tenantId), body: state },
        expected ? equals('body', expected) : absent(),
      ),
    );
  }

  getScalerState(tenantId: string, appUid: string): Promise<ScalerState | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.scalerState(tenantId, appUid));
      return item && bodyOf<ScalerState>(item);
    });
  }

  async putScalerState(tenantId: string, appUid: string, state: ScalerState): Promise<void> {
    const expiresAt = Math.floor(Date.now() / 1000) + SCALER_STATE_RETENTION_SECONDS;
    await guarded(() => this.table.put({ ...key.scalerState(tenantId, appUid), body: state, expiresAt }));
  }

  listAppEvents(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<AppEventRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.app(tenantId, appUid), prefix: PREFIX.appEvent, newestFirst: true },
        { limit, cursor },
      );
      return page(res.items, res.cursor, bodyOf<AppEventRecord>);
    });
  }

  async acquireLease(
    name: string,
    owner: string,
    untilMs: number,
    nowMs: number,
    unlessTakenSince?: number,
  ): Promise<boolean> {
    const free = anyOf(absent(), lessThan('until', nowMs), equals('owner', owner));
    return conditionally(() =>
      this.table.put(
        { ...key.lease(name), owner, ...leaseTaken(untilMs, nowMs) },
        unlessTakenSince === undefined
          ? free
          : allOf(free, anyOf(absent('takenAt'), lessThan('takenAt', unlessTakenSince))),
      ),
    );
  }

  askLeaseAgain(name: string, nowMs: number, askedAt?: number): Promise<boolean> {
    const held = allOf(exists(), atLeast('until', nowMs));
    return conditionally(() =>
      this.table.update(
        key.lease(name),
        { set: { again: true } },
        askedAt === undefined ? held : allOf(held, lessThan('takenAt', askedAt)),
      ),
    );
  }

  renewLease(name: string, owner: string, untilMs: number): Promise<boolean> {
    return conditionally(() =>
      this.table.update(
        key.lease(name),
        { set: { until: untilMs, expiresAt: leaseExpiry(untilMs) } },
        allOf(exists(), equals('owner', owner)),
      ),
    );
  }

  async releaseLease(name: string, owner: string, nowMs: number, againUntilMs?: number): Promise<boolean> {
    const mine = allOf(exists(), equals('owner', owner));
    const notAsked = anyOf(absent('again'), equals('again', false));
    const freed = () =>
      conditionally(() =>
        this.table.update(
          key.lease(name),
          { set: { until: 0 } },
          againUntilMs === undefined ? mine : allOf(mine, notAsked),
        ),
      );
    if ((await freed()) || againUntilMs === undefined) return false;
    return conditionally(() =>
      this.table.update(key.lease(name), { set: leaseTaken(againUntilMs, nowMs) }, mine),
    );
  }

  /** Removes an app incarnation's revisions and deployments; its uid makes leftovers harmless if this is cut short. */
  private async deleteChildren(app: AppRecord): Promise<void> {
    await guarded(async () => {
      const partition = PARTITION.app(app.tenantId, app.uid);
      for (const prefix of [PREFIX.revision, PREFIX.deployment]) {
        await this.table.deleteAll(await this.table.keys({ partition, prefix }));
      }
    });
  }

  getApp(tenantId: string, name: string): Promise<AppRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.app(tenantId, name));
      return item && bodyOf<AppRecord>(item);
    });
  }

  listApps(tenantId: string, { limit, cursor }: PageRequest): Promise<Page<AppRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.tenant(tenantId), prefix: PREFIX.app },
        { limit, cursor },
      );
      return page(res.items, res.cursor, bodyOf<AppRecord>);
    });
  }

  getRevision(tenantId: string, appUid: string, n: number): Promise<RevisionRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.revision(tenantId, appUid, n));
      return item && bodyOf<RevisionRecord>(item);
    });
  }

  listRevisions(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<RevisionRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.app(tenantId, appUid), prefix: PREFIX.revision, newestFirst: true },
        { limit, cursor },
      );
      return page(res.items, res.cursor, bodyOf<RevisionRecord>);
    });
  }

  getDeployment(tenantId: string, appUid: string, id: string): Promise<DeploymentRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.deployment(tenantId, appUid, id));
      return item && bodyOf<DeploymentRecord>(item);
    });
  }

  listDeployments(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<DeploymentRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.app(tenantId, appUid), prefix: PREFIX.deployment, newestFirst: true },
        { limit, cursor },
      );
      return page(res.items, res.cursor, bodyOf<DeploymentRecord>);
    });
  }

  // Repositories and images

  async createRepository(
    tenantId: string,
    repository: RepositoryRecord,
    maxPerTenant: number,
  ): Promise<boolean> {
    const { cancelled } = await this.table.transact([
      this.table.putItem({ ...key.repository(tenantId, repository.name), ...repository }, absent()),
      this.countOnTenant(tenantId, REPOSITORY_COUNT, maxPerTenant),
    ]);
    if (!cancelled) return true;
    if (cancelled[0] === 'ConditionalCheckFailed') return false;
    return this.countRefused(tenantId, `a tenant may keep ${maxPerTenant} repositories; delete one first`);
  }

  completeRepository(tenantId: string, name: string): Promise<boolean> {
    return conditionally(() =>
      this.table.update(key.repository(tenantId, name), { set: { pending: false } }, equals('pending', true)),
    );
  }

  listRepositories(tenantId: string): Promise<RepositoryRecord[]> {
    return guarded(async () => {
      const items = await this.table.all({
        partition: PARTITION.tenant(tenantId),
        prefix: PREFIX.repository,
      });
      return items.map(fieldsOf<RepositoryRecord>);
    });
  }

  getRepository(tenantId: string, name: string): Promise<RepositoryRecord | undefined> {
    return guarded(async () => {
      const item = await this.table.get(key.repository(tenantId, name));
      return item && fieldsOf<RepositoryRecord>(item);
    });
  }

  async recordImagePush(tenantId: string, repository: string, image: Image): Promise<void> {
    await guarded(async () => {
      // A tag names one digest: take it off the images that held it before (unless they are gone meanwhile).
      for (const holder of await this.listImages(tenantId, repository)) {
        const moved = holder.tags.filter((tag) => image.tags.includes(tag));
        if (holder.digest === image.digest || moved.length === 0) continue;
        await conditionally(() =>
          this.table.update(
            key.image(tenantId, repository, holder.digest),
            { takeFromSet: { tags: new Set(moved) } },
            exists(),
          ),
        );
      }
      await this.table.update(key.image(tenantId, repository, image.digest), {
        set: { digest: image.digest, pushedAt: image.pushedAt, size: image.size },
        ...(image.tags.length ? { add: { tags: new Set(image.tags) } } : {}),
      });
    });
  }

  listImages(tenantId: string, repository: string): Promise<Image[]> {
    return guarded(async () => {
      const items = await this.table.all({ partition: PARTITION.repository(tenantId, repository) });
      return items
        .map((i) => ({
          digest: String(i.digest),
          tags: [...((i.tags as Set<string> | undefined) ?? [])].sort(),
          pushedAt: String(i.pushedAt),
          size: Number(i.size),
        }))
        .sort((a, b) => codeUnitOrder(b.pushedAt, a.pushedAt));
    });
  }

  deleteRepository(tenantId: string, repository: string): Promise<boolean> {
    return guarded(async () => {
      if (!(await this.getRepository(tenantId, repository))) return false;
      // The images first: a repository record never outlives its images' records.
      await this.table.deleteAll(
        await this.table.keys({ partition: PARTITION.repository(tenantId, repository) }),
      );
      // The record goes and its place is free again in one transaction: its token keeps a try again after a lost
      // answer, and its condition a deletion racing this one, from freeing the place twice. A tenant gone meanwhile
      // has no count left to lower: the record goes alone.
      const { cancelled } = await this.table.transact([
        this.table.deleteItem(key.repository(tenantId, repository), exists()),
        this.table.updateItem(
          key.tenant(tenantId),
          { add: { [REPOSITORY_COUNT]: -1 } },
          atLeast(REPOSITORY_COUNT, 1),
        ),
      ]);
      if (cancelled) await this.table.delete(key.repository(tenantId, repository));
      return true;
    });
  }

  // Usage

  listUsage(
    tenantId: string,
    fromHour: string,
    toHour: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<UsageRecord>> {
    return guarded(async () => {
      const res = await this.table.page(
        { partition: PARTITION.tenant(tenantId), between: usageHours(fromHour, toHour) },
        { limit, cursor },
      );
      return page(res.items, res.cursor, toUsageRecord);
    });
  }

  // Idempotency

  async claimIdempotencyKey(
    scope: string,
    keyHash: string,
    claim: { fingerprint: string; lockedUntil: number; expiresAt: number },
    nowSeconds: number,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }> {
    return guarded(async () => {
      const claimed = await conditionally(() =>
        this.table.put(
          { ...key.idempotency(scope, keyHash), state: 'running', ...claim },
          anyOf(
            absent(),
            lessThan('expiresAt', nowSeconds),
            allOf(equals('state', 'running'), lessThan('lockedUntil', nowSeconds)),
          ),
        ),
      );
      if (claimed) return { claimed: true as const };
      const item = await this.table.get(key.idempotency(scope, keyHash));
      if (!item) throw new UnavailableError('the idempotency record vanished while it was read; retry');
      return {
        claimed: false as const,
        existing: {
          fingerprint: String(item.fingerprint),
          state: item.state === 'done' ? 'done' : 'running',
          lockedUntil: Number(item.lockedUntil),
          response: item.response as IdempotencyRecord['response'],
        },
      };
    });
  }

  async completeIdempotencyKey(scope: string, keyHash: string, response: IdempotencyRecord['response']) {
    await guarded(() =>
      this.table.update(key.idempotency(scope, keyHash), { set: { state: 'done', response } }, exists()),
    );
  }

  async releaseIdempotencyKey(scope: string, keyHash: string) {
    await guarded(() => this.table.delete(key.idempotency(scope, keyHash)));
  }

  // Rate limits

  async countRequest(
    caller: string,
    windowStart: number,
    expiresAt: number,
    requests: number,
  ): Promise<number> {
    return guarded(async () => {
      const item = await this.table.update(key.requestCount(caller, windowStart), {
        set: { expiresAt },
        add: { count: requests },
      });
      return Number(item.count ?? requests);
    });
  }
}
