import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../../schemas/common.ts';
import type { Plan } from '../../../schemas/plan.ts';
import type { Image, Repository } from '../../../schemas/repository.ts';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  TenantHasAppsError,
  UnavailableError,
} from '../../core/errors.ts';
import type {
  ApiKeyRecord,
  AppEventRecord,
  AppRecord,
  AppWrite,
  DeploymentRecord,
  IdempotencyRecord,
  PageRequest,
  Reservation,
  RevisionRecord,
  RolloutWrite,
  ScalerState,
  Store,
  TenantRecord,
  UsageCapState,
  UsageRecord,
} from '../../core/ports.ts';
import { assertWithinLimits, reservationCeilings, reservationOf } from '../../core/quota.ts';
import { type Entities, entitiesOf, toUsageRecord } from './entities.ts';
import { conditionally, guarded, isConditionFailure } from './errors.ts';
import { put, remove, type TransactItem, transact, update } from './transactions.ts';

type Params = Record<string, unknown>;

function page<T>(data: T[], cursor: string | null | undefined): Page<T> {
  return { items: data, nextCursor: cursor ?? null };
}

function toTenantRecord(item: {
  id: string;
  name: string;
  plan: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  reservedApps: number;
  reservedVcpuMilli: number;
  reservedMemoryMiB: number;
}): TenantRecord {
  const { reservedApps, reservedVcpuMilli, reservedMemoryMiB, status, ...tenant } = item;
  return {
    ...tenant,
    status: status === 'suspended' ? 'suspended' : 'active',
    reserved: { apps: reservedApps, vcpuMilli: reservedVcpuMilli, memoryMiB: reservedMemoryMiB },
  };
}

function toKeyRecord(
  item: Omit<ApiKeyRecord, 'lastUsedAt' | 'role'> & { lastUsedAt?: string; role: string },
) {
  return {
    id: item.id,
    tenantId: item.tenantId,
    role: 'tenant',
    prefix: item.prefix,
    hash: item.hash,
    createdAt: item.createdAt,
    lastUsedAt: item.lastUsedAt ?? null,
  } satisfies ApiKeyRecord;
}

function keyItem({ lastUsedAt, ...key }: ApiKeyRecord) {
  return { ...key, ...(lastUsedAt ? { lastUsedAt } : {}) };
}

const revisionItem = (r: RevisionRecord) => ({
  tenantId: r.tenantId,
  appUid: r.appUid,
  number: r.number,
  body: r,
});
const deploymentItem = (d: DeploymentRecord) => ({
  tenantId: d.tenantId,
  appUid: d.appUid,
  id: d.id,
  status: d.status,
  body: d,
});

/** An app's autoscaler memory outlives any stabilization window by far. */
const SCALER_STATE_RETENTION_SECONDS = 24 * 3600;
/** App events are kept this long. */
const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * The Store on one DynamoDB table through ElectroDB. Writes that must be atomic with a quota or version check are
 * plain TransactWriteCommands assembled from ElectroDB's params.
 *
 * @example
 * const store = new DynamoStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'berth');
 */
export class DynamoStore implements Store {
  private readonly e: Entities;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tableName: string,
  ) {
    this.e = entitiesOf(client, tableName);
  }

  private transact(items: TransactItem[]) {
    return transact(this.client, items);
  }

  // Plans

  async createPlan(plan: Plan): Promise<void> {
    await guarded(async () => {
      try {
        await this.e.plan.create(plan).go();
      } catch (err) {
        if (isConditionFailure(err))
          throw new ConflictError('plan.exists', `plan "${plan.id}" already exists`);
        throw err;
      }
    });
  }

  getPlan(id: string): Promise<Plan | undefined> {
    return guarded(async () => {
      const { data } = await this.e.plan.get({ id }).go({ consistent: true });
      return (data as Plan | null) ?? undefined;
    });
  }

  listPlans({ limit, cursor }: PageRequest): Promise<Page<Plan>> {
    return guarded(async () => {
      const res = await this.e.plan.query.primary({}).go({ limit, cursor: cursor ?? null });
      return page(res.data as Plan[], res.cursor);
    });
  }

  async updatePlan(plan: Plan, expectedVersion: number): Promise<void> {
    await guarded(async () => {
      try {
        await this.e.plan
          .put(plan)
          .where((a, op) => op.eq(a.version, expectedVersion))
          .go();
      } catch (err) {
        if (isConditionFailure(err)) throw new PreconditionFailedError();
        throw err;
      }
    });
  }

  // Tenants and keys

  private tenantItem({ reserved, ...tenant }: TenantRecord) {
    return {
      ...tenant,
      reservedApps: reserved.apps,
      reservedVcpuMilli: reserved.vcpuMilli,
      reservedMemoryMiB: reserved.memoryMiB,
    };
  }

  async createTenant(tenant: TenantRecord, firstKey: ApiKeyRecord): Promise<void> {
    const { cancelled } = await this.transact([
      put(this.e.tenant.create(this.tenantItem(tenant)).params()),
      put(this.e.apiKey.create(keyItem(firstKey)).params()),
      put(this.e.keyByHash.create(keyItem(firstKey)).params()),
    ]);
    if (cancelled) throw new ConflictError('tenant.exists', `tenant "${tenant.id}" already exists`);
  }

  getTenant(id: string): Promise<TenantRecord | undefined> {
    return guarded(async () => {
      const { data } = await this.e.tenant.get({ id }).go({ consistent: true });
      return data ? toTenantRecord(data) : undefined;
    });
  }

  listTenants({ limit, cursor }: PageRequest): Promise<Page<TenantRecord>> {
    return guarded(async () => {
      const res = await this.e.tenant.query.list({}).go({ limit, cursor: cursor ?? null });
      return page(res.data.map(toTenantRecord), res.cursor);
    });
  }

  async updateTenant(tenant: TenantRecord, expectedVersion: number): Promise<void> {
    await guarded(async () => {
      try {
        await this.e.tenant
          .patch({ id: tenant.id })
          .set({
            name: tenant.name,
            plan: tenant.plan,
            status: tenant.status,
            version: tenant.version,
            updatedAt: tenant.updatedAt,
          })
          .where((a, op) => op.eq(a.version, expectedVersion))
          .go();
      } catch (err) {
        if (isConditionFailure(err)) throw new PreconditionFailedError();
        throw err;
      }
    });
  }

  async deleteTenant(id: string, expectedVersion: number): Promise<void> {
    const keys = await this.listApiKeys(id, { limit: 45 });
    const { cancelled } = await this.transact([
      remove(
        this.e.tenant
          .delete({ id })
          .where((a, op) => `${op.eq(a.version, expectedVersion)} AND ${op.eq(a.reservedApps, 0)}`)
          .params(),
      ),
      ...keys.items.flatMap((key) => [
        remove(this.e.apiKey.delete({ tenantId: id, id: key.id }).params()),
        remove(this.e.keyByHash.delete({ hash: key.hash }).params()),
      ]),
    ]);
    if (!cancelled) return;
    const current = await this.getTenant(id);
    if (!current) throw new NotFoundError('tenant.notFound', `tenant "${id}" does not exist`);
    if (current.reserved.apps > 0) throw new TenantHasAppsError(id, current.reserved.apps);
    throw new PreconditionFailedError();
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    const { cancelled } = await this.transact([
      put(this.e.apiKey.create(keyItem(key)).params()),
      put(this.e.keyByHash.create(keyItem(key)).params()),
      { ConditionCheck: this.tenantExists(key.tenantId) },
    ]);
    if (cancelled) throw new NotFoundError('tenant.notFound', `tenant "${key.tenantId}" does not exist`);
  }

  private tenantExists(id: string) {
    const { Key, TableName } = this.e.tenant.get({ id }).params() as { Key: Params; TableName: string };
    return { Key, TableName, ConditionExpression: 'attribute_exists(pk)' };
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return guarded(async () => {
      const { data } = await this.e.keyByHash.get({ hash }).go({ consistent: true });
      return data ? toKeyRecord(data) : undefined;
    });
  }

  listApiKeys(tenantId: string, { limit, cursor }: PageRequest): Promise<Page<ApiKeyRecord>> {
    return guarded(async () => {
      const res = await this.e.apiKey.query.primary({ tenantId }).go({ limit, cursor: cursor ?? null });
      return page(res.data.map(toKeyRecord), res.cursor);
    });
  }

  async deleteApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const key = await guarded(async () => {
      const { data } = await this.e.apiKey.get({ tenantId, id: keyId }).go({ consistent: true });
      return data ? toKeyRecord(data) : undefined;
    });
    if (!key) return undefined;
    await this.transact([
      remove(this.e.apiKey.delete({ tenantId, id: keyId }).params()),
      remove(this.e.keyByHash.delete({ hash: key.hash }).params()),
    ]);
    return key;
  }

  async touchApiKey(key: ApiKeyRecord, at: string): Promise<void> {
    // Best effort: a key revoked meanwhile simply stays deleted (the conditions fail and nothing is written).
    await this.transact([
      update(this.e.apiKey.patch({ tenantId: key.tenantId, id: key.id }).set({ lastUsedAt: at }).params()),
      update(this.e.keyByHash.patch({ hash: key.hash }).set({ lastUsedAt: at }).params()),
    ]);
  }

  // Apps

  /** Adds `delta` to the tenant's reservation, on condition it stays active, on the same plan, within limits. */
  private reserve(tenantId: string, plan: Plan, delta: Reservation): TransactItem {
    const ceilings = reservationCeilings(plan.limits, delta);
    return update(
      this.e.tenant
        .patch({ id: tenantId })
        .add({
          reservedApps: delta.apps,
          reservedVcpuMilli: delta.vcpuMilli,
          reservedMemoryMiB: delta.memoryMiB,
        })
        .where((a, op) =>
          [
            op.eq(a.status, 'active'),
            op.eq(a.plan, plan.id),
            ...(delta.apps > 0 ? [op.lte(a.reservedApps, ceilings.apps)] : []),
            ...(delta.vcpuMilli > 0 ? [op.lte(a.reservedVcpuMilli, ceilings.vcpuMilli)] : []),
            ...(delta.memoryMiB > 0 ? [op.lte(a.reservedMemoryMiB, ceilings.memoryMiB)] : []),
          ].join(' AND '),
        )
        .params(),
    );
  }

  /** The plan's limits may not change between the check and the write. */
  private planUnchanged(plan: Plan) {
    const { Key, TableName } = this.e.plan.get({ id: plan.id }).params() as {
      Key: Params;
      TableName: string;
    };
    return {
      ConditionCheck: {
        Key,
        TableName,
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': plan.version },
      },
    };
  }

  private appItem(app: AppRecord) {
    return { tenantId: app.tenantId, name: app.name, version: app.version, body: app };
  }

  /** Explains a cancelled app transaction: [app, tenant, plan, ...rest]. */
  private async explainCancelledAppWrite(
    write: AppWrite,
    codes: string[],
    appFailure: Error,
  ): Promise<never> {
    const [appCode, tenantCode, planCode] = codes;
    if (appCode === 'ConditionalCheckFailed') throw appFailure;
    if (planCode === 'ConditionalCheckFailed') throw new PreconditionFailedError();
    if (tenantCode === 'ConditionalCheckFailed') {
      const tenant = await this.getTenant(write.app.tenantId);
      if (!tenant)
        throw new NotFoundError('tenant.notFound', `tenant "${write.app.tenantId}" does not exist`);
      if (tenant.status !== 'active') {
        throw new ForbiddenError(
          'tenant.suspended',
          `tenant "${tenant.id}" is suspended; its writes are refused`,
        );
      }
      if (tenant.plan !== write.quota.plan.id) throw new PreconditionFailedError();
      assertWithinLimits(write.quota.plan.id, write.quota.plan.limits, tenant.reserved, write.quota.delta);
      throw new PreconditionFailedError();
    }
    throw new UnavailableError('the write was cancelled; retry shortly');
  }

  private appWriteItems(write: AppWrite, appItem: TransactItem): TransactItem[] {
    return [
      appItem,
      this.reserve(write.app.tenantId, write.quota.plan, write.quota.delta),
      this.planUnchanged(write.quota.plan),
      ...(write.revision ? [put(this.e.revision.create(revisionItem(write.revision)).params())] : []),
      ...(write.deployment ? [put(this.e.deployment.create(deploymentItem(write.deployment)).params())] : []),
    ];
  }

  async createApp(write: AppWrite): Promise<void> {
    const items = this.appWriteItems(write, put(this.e.app.create(this.appItem(write.app)).params()));
    const { cancelled } = await this.transact(items);
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

  async updateApp(write: AppWrite & { expectedVersion: number }): Promise<void> {
    const appPut = put(
      this.e.app
        .put(this.appItem(write.app))
        .where((a, op) => op.eq(a.version, write.expectedVersion))
        .params(),
    );
    const { cancelled } = await this.transact(this.appWriteItems(write, appPut));
    if (cancelled) await this.explainCancelledAppWrite(write, cancelled, new PreconditionFailedError());
  }

  async writeRollout({ app, deployment }: RolloutWrite): Promise<boolean> {
    const writes = [
      ...(app ? [this.appStatusPut(app.record, app.expectedVersion)] : []),
      ...(deployment ? [this.deploymentPut(deployment.record, deployment.expectedStatus)] : []),
    ];
    const [only, ...others] = writes;
    if (!only) return true;
    if (others.length === 0) return conditionally(() => only.go());
    const { cancelled } = await this.transact(writes.map((write) => put(write.params())));
    return !cancelled;
  }

  private appStatusPut(app: AppRecord, expectedVersion: number) {
    return this.e.app.put(this.appItem(app)).where((a, op) => op.eq(a.version, expectedVersion));
  }

  private deploymentPut(deployment: DeploymentRecord, expectedStatus: DeploymentRecord['status']) {
    return this.e.deployment
      .put(deploymentItem(deployment))
      .where((a, op) => op.eq(a.status, String(expectedStatus)));
  }

  async finalizeAppDeletion(app: AppRecord): Promise<void> {
    const held = reservationOf(app);
    const { cancelled } = await this.transact([
      remove(
        this.e.app
          .delete({ tenantId: app.tenantId, name: app.name })
          .where((a, op) => op.eq(a.version, app.version))
          .params(),
      ),
      update(
        this.e.tenant
          .patch({ id: app.tenantId })
          .add({
            reservedApps: -held.apps,
            reservedVcpuMilli: -held.vcpuMilli,
            reservedMemoryMiB: -held.memoryMiB,
          })
          .params(),
      ),
    ]);
    if (cancelled) throw new PreconditionFailedError();
    await this.deleteChildren(app);
  }

  updateDeployment(deployment: DeploymentRecord, expectedStatus: DeploymentRecord['status']) {
    return conditionally(() => this.deploymentPut(deployment, expectedStatus).go());
  }

  async addAppEvent(event: AppEventRecord): Promise<void> {
    const expiresAt = Math.floor(Date.parse(event.at) / 1000) + EVENT_RETENTION_SECONDS;
    await guarded(() =>
      this.e.appEvent
        .put({ tenantId: event.tenantId, appUid: event.appUid, id: event.id, body: event, expiresAt })
        .go(),
    );
  }

  getUsageCapState(tenantId: string): Promise<UsageCapState | undefined> {
    return guarded(async () => {
      const { data } = await this.e.usageCap.get({ tenantId }).go({ consistent: true });
      return (data?.body as UsageCapState | undefined) ?? undefined;
    });
  }

  putUsageCapState(
    tenantId: string,
    state: UsageCapState,
    expected: UsageCapState | undefined,
  ): Promise<boolean> {
    const stamp = (s: UsageCapState) => JSON.stringify(s);
    return conditionally(() =>
      this.e.usageCap
        .put({ tenantId, body: state, stamp: stamp(state) })
        .where((a, op) => (expected ? op.eq(a.stamp, stamp(expected)) : op.notExists(a.stamp)))
        .go(),
    );
  }

  getScalerState(tenantId: string, appUid: string): Promise<ScalerState | undefined> {
    return guarded(async () => {
      const { data } = await this.e.scalerState.get({ tenantId, appUid }).go({ consistent: true });
      return (data?.body as ScalerState | undefined) ?? undefined;
    });
  }

  async putScalerState(tenantId: string, appUid: string, state: ScalerState): Promise<void> {
    const expiresAt = Math.floor(Date.now() / 1000) + SCALER_STATE_RETENTION_SECONDS;
    await guarded(() => this.e.scalerState.put({ tenantId, appUid, body: state, expiresAt }).go());
  }

  listAppEvents(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<AppEventRecord>> {
    return guarded(async () => {
      const res = await this.e.appEvent.query
        .primary({ tenantId, appUid })
        .go({ limit, cursor: cursor ?? null, order: 'desc' });
      return page(
        res.data.map((d) => d.body as AppEventRecord),
        res.cursor,
      );
    });
  }

  async acquireLease(name: string, owner: string, untilMs: number, nowMs: number): Promise<boolean> {
    return conditionally(() =>
      this.e.lease
        .put({ name, owner, until: untilMs, expiresAt: Math.ceil(untilMs / 1000) + 3600 })
        .where((a, op) => `${op.notExists(a.name)} OR ${op.lt(a.until, nowMs)} OR ${op.eq(a.owner, owner)}`)
        .go(),
    );
  }

  /** Removes an app incarnation's revisions and deployments; its uid makes leftovers harmless if this is cut short. */
  private async deleteChildren(app: AppRecord): Promise<void> {
    await guarded(async () => {
      const key = { tenantId: app.tenantId, appUid: app.uid };
      const revisions = await this.e.revision.query.primary(key).go({ pages: 'all', attributes: ['number'] });
      if (revisions.data.length)
        await this.e.revision.delete(revisions.data.map((r) => ({ ...key, ...r }))).go();
      const deployments = await this.e.deployment.query.primary(key).go({ pages: 'all', attributes: ['id'] });
      if (deployments.data.length)
        await this.e.deployment.delete(deployments.data.map((d) => ({ ...key, ...d }))).go();
    });
  }

  getApp(tenantId: string, name: string): Promise<AppRecord | undefined> {
    return guarded(async () => {
      const { data } = await this.e.app.get({ tenantId, name }).go({ consistent: true });
      return (data?.body as AppRecord | undefined) ?? undefined;
    });
  }

  listApps(tenantId: string, { limit, cursor }: PageRequest): Promise<Page<AppRecord>> {
    return guarded(async () => {
      const res = await this.e.app.query.primary({ tenantId }).go({ limit, cursor: cursor ?? null });
      return page(
        res.data.map((d) => d.body as AppRecord),
        res.cursor,
      );
    });
  }

  getRevision(tenantId: string, appUid: string, n: number): Promise<RevisionRecord | undefined> {
    return guarded(async () => {
      const { data } = await this.e.revision.get({ tenantId, appUid, number: n }).go({ consistent: true });
      return (data?.body as RevisionRecord | undefined) ?? undefined;
    });
  }

  listRevisions(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<RevisionRecord>> {
    return guarded(async () => {
      const res = await this.e.revision.query
        .primary({ tenantId, appUid })
        .go({ limit, cursor: cursor ?? null });
      return page(
        res.data.map((d) => d.body as RevisionRecord),
        res.cursor,
      );
    });
  }

  getDeployment(tenantId: string, appUid: string, id: string): Promise<DeploymentRecord | undefined> {
    return guarded(async () => {
      const { data } = await this.e.deployment.get({ tenantId, appUid, id }).go({ consistent: true });
      return (data?.body as DeploymentRecord | undefined) ?? undefined;
    });
  }

  listDeployments(
    tenantId: string,
    appUid: string,
    { limit, cursor }: PageRequest,
  ): Promise<Page<DeploymentRecord>> {
    return guarded(async () => {
      const res = await this.e.deployment.query
        .primary({ tenantId, appUid })
        .go({ limit, cursor: cursor ?? null, order: 'desc' });
      return page(
        res.data.map((d) => d.body as DeploymentRecord),
        res.cursor,
      );
    });
  }

  // Repositories and images

  async createRepository(tenantId: string, repository: Repository): Promise<boolean> {
    return conditionally(() => this.e.repository.create({ tenantId, ...repository }).go());
  }

  listRepositories(tenantId: string): Promise<Repository[]> {
    return guarded(async () => {
      const res = await this.e.repository.query.primary({ tenantId }).go({ pages: 'all' });
      return res.data.map(({ name, uri, createdAt }) => ({ name, uri, createdAt }));
    });
  }

  getRepository(tenantId: string, name: string): Promise<Repository | undefined> {
    return guarded(async () => {
      const { data } = await this.e.repository.get({ tenantId, name }).go({ consistent: true });
      return data ? { name: data.name, uri: data.uri, createdAt: data.createdAt } : undefined;
    });
  }

  async recordImagePush(tenantId: string, repository: string, image: Image): Promise<void> {
    await guarded(async () => {
      // A tag names one digest: take it off the images that held it before.
      for (const tag of image.tags) {
        const holders = (await this.listImages(tenantId, repository)).filter(
          (i) => i.digest !== image.digest && i.tags.includes(tag),
        );
        for (const holder of holders) {
          await this.e.image
            .update({ tenantId, repository, digest: holder.digest })
            .delete({ tags: [tag] })
            .go();
        }
      }
      await this.e.image
        .update({ tenantId, repository, digest: image.digest })
        .set({ pushedAt: image.pushedAt, size: image.size })
        .add(image.tags.length ? { tags: image.tags } : {})
        .go();
    });
  }

  listImages(tenantId: string, repository: string): Promise<Image[]> {
    return guarded(async () => {
      const res = await this.e.image.query.primary({ tenantId, repository }).go({ pages: 'all' });
      return res.data
        .map((i) => ({
          digest: i.digest,
          tags: [...(i.tags ?? [])].sort(),
          pushedAt: i.pushedAt,
          size: i.size,
        }))
        .sort((a, b) => b.pushedAt.localeCompare(a.pushedAt));
    });
  }

  deleteRepository(tenantId: string, repository: string): Promise<boolean> {
    return guarded(async () => {
      if (!(await this.getRepository(tenantId, repository))) return false;
      // The images first: a repository record never outlives its images' records.
      const images = await this.listImages(tenantId, repository);
      if (images.length) {
        await this.e.image.delete(images.map(({ digest }) => ({ tenantId, repository, digest }))).go();
      }
      await this.e.repository.delete({ tenantId, name: repository }).go();
      return true;
    });
  }

  // Usage

  listUsage(tenantId: string, fromHour: string, toHour: string): Promise<UsageRecord[]> {
    return guarded(async () => {
      const res = await this.e.usage.query
        .primary({ tenantId })
        .between({ hour: fromHour }, { hour: `${toHour}~` })
        .go({ pages: 'all', consistent: true });
      return res.data.map(toUsageRecord);
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
      try {
        await this.e.idempotency
          .put({ scope, keyHash, state: 'running', ...claim })
          .where(
            (a, op) =>
              `${op.notExists(a.scope)} OR ${op.lt(a.expiresAt, nowSeconds)} OR (${op.eq(a.state, 'running')} AND ${op.lt(a.lockedUntil, nowSeconds)})`,
          )
          .go();
        return { claimed: true as const };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const { data } = await this.e.idempotency.get({ scope, keyHash }).go({ consistent: true });
      if (!data) throw new UnavailableError('the idempotency record vanished while it was read; retry');
      return {
        claimed: false as const,
        existing: {
          fingerprint: data.fingerprint,
          state: data.state === 'done' ? 'done' : 'running',
          lockedUntil: data.lockedUntil,
          response: data.response as IdempotencyRecord['response'],
        },
      };
    });
  }

  async completeIdempotencyKey(scope: string, keyHash: string, response: IdempotencyRecord['response']) {
    await guarded(() => this.e.idempotency.patch({ scope, keyHash }).set({ state: 'done', response }).go());
  }

  async releaseIdempotencyKey(scope: string, keyHash: string) {
    await guarded(() => this.e.idempotency.delete({ scope, keyHash }).go());
  }

  // Rate limits

  async countRequest(keyId: string, windowStart: number, expiresAt: number): Promise<number> {
    return guarded(async () => {
      const { data } = await this.e.requestCount
        .update({ keyId, windowStart })
        .add({ count: 1 })
        .set({ expiresAt })
        .go({ response: 'all_new' });
      return data.count ?? 1;
    });
  }
}
