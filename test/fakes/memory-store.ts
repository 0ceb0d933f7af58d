import { codeUnitOrder } from '../../functions/core/code-unit-order.ts';
import {
  ConflictError,
  DeploymentMovedError,
  DomainError,
  ForbiddenError,
  QuotaExceededError,
  TenantHasAppsError,
  TenantIdTakenError,
  TenantNotFoundError,
  WriteConflictError,
} from '../../functions/core/errors.ts';
import { addUsageAmounts, emptyUsage } from '../../functions/core/metering.ts';
import { pageInMemory } from '../../functions/core/page-in-memory.ts';
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
  RepositoryRecord,
  RevisionRecord,
  RolloutWrite,
  ScalerState,
  Store,
  StoredResponse,
  TenantRecord,
  UsageCapState,
  UsageRecord,
} from '../../functions/core/ports.ts';
import { assertWithinLimits, reservationOf } from '../../functions/core/quota.ts';
import { sameValue } from '../../functions/core/same-value.ts';
import type { Page } from '../../schemas/common.ts';
import type { Plan } from '../../schemas/plan.ts';
import type { Image } from '../../schemas/repository.ts';

const clone = <T>(value: T): T => structuredClone(value);

/** `items` in the order of `keyOf` (code unit order), as DynamoDB lists items by their sort key. */
const sortedBy = <T>(items: Iterable<T>, keyOf: (item: T) => string): T[] =>
  [...items].sort((a, b) => codeUnitOrder(keyOf(a), keyOf(b)));

function paginate<T>(all: T[], { limit, cursor }: PageRequest): Page<T> {
  const start = cursor ? Number(cursor) : 0;
  const items = all.slice(start, start + limit).map(clone);
  return { items, nextCursor: start + limit < all.length ? String(start + limit) : null };
}

/** An in-memory Store with the same conditional semantics and list orders as the DynamoDB one, for core unit tests. */
export class MemoryStore implements Store {
  readonly plans = new Map<string, Plan>();
  readonly tenants = new Map<string, TenantRecord>();
  /** The deleted tenants, by id. */
  private readonly deletedTenants = new Map<string, DeletedTenant>();
  readonly keys = new Map<string, ApiKeyRecord>();
  readonly apps = new Map<string, AppRecord>();
  readonly revisions = new Map<string, RevisionRecord>();
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly usage = new Map<string, UsageRecord>();
  readonly events: AppEventRecord[] = [];
  readonly repositories = new Map<string, RepositoryRecord>();
  readonly images = new Map<string, Image[]>();
  readonly leases = new Map<string, { owner: string; until: number; takenAt: number; again: boolean }>();
  readonly idempotency = new Map<string, IdempotencyRecord & { expiresAt: number }>();

  async createPlan(plan: Plan) {
    if (this.plans.has(plan.id)) throw new ConflictError('plan.exists', `plan "${plan.id}" already exists`);
    this.plans.set(plan.id, clone(plan));
  }
  async getPlan(id: string) {
    return clone(this.plans.get(id));
  }
  async listPlans(page: PageRequest) {
    return paginate(
      sortedBy(this.plans.values(), (p) => p.id),
      page,
    );
  }
  async updatePlan(plan: Plan, expectedVersion: number) {
    if (this.plans.get(plan.id)?.version !== expectedVersion) throw new WriteConflictError();
    this.plans.set(plan.id, clone(plan));
  }

  async createTenant(tenant: TenantRecord, firstKey: ApiKeyRecord) {
    if (this.tenants.has(tenant.id) || this.deletedTenants.has(tenant.id))
      throw new TenantIdTakenError(tenant.id, this.deletedTenants.get(tenant.id)?.deletedAt);
    this.tenants.set(tenant.id, clone(tenant));
    this.keys.set(firstKey.hash, clone(firstKey));
  }
  async getTenant(id: string) {
    return clone(this.tenants.get(id));
  }
  async listTenants(page: PageRequest) {
    return paginate(
      sortedBy(this.tenants.values(), (t) => t.id),
      page,
    );
  }
  async updateTenant(tenant: TenantRecord, expectedVersion: number) {
    const current = this.tenants.get(tenant.id);
    if (current?.version !== expectedVersion) throw new WriteConflictError();
    this.tenants.set(tenant.id, { ...clone(tenant), reserved: current.reserved });
  }
  async getBilledTenant(id: string) {
    return clone(this.tenants.get(id) ?? this.deletedTenants.get(id));
  }
  async listBilledTenants(page: PageRequest) {
    // The tenants there by id, then the deleted ones by id, as the table's index keeps them.
    return paginate<BilledTenant>(
      [
        ...sortedBy(this.tenants.values(), (t) => t.id),
        ...sortedBy(this.deletedTenants.values(), (t) => t.id),
      ],
      page,
    );
  }
  async deleteTenant(tenant: TenantRecord, deletedAt: string) {
    const { id, version: expectedVersion } = tenant;
    const current = this.tenants.get(id);
    if (!current) throw new TenantNotFoundError(id);
    if (current.reserved.apps > 0) throw new TenantHasAppsError(id, current.reserved.apps);
    if (current.version !== expectedVersion) throw new WriteConflictError();
    this.tenants.delete(id);
    this.deletedTenants.set(id, { id, createdAt: tenant.createdAt, deletedAt });
    const hashes = [...this.keys.values()].filter((k) => k.tenantId === id).map((k) => k.hash);
    for (const hash of hashes) this.keys.delete(hash);
    return hashes;
  }

  async createApiKey(key: ApiKeyRecord, maxPerTenant: number) {
    if (!this.tenants.has(key.tenantId)) throw new TenantNotFoundError(key.tenantId);
    const held = [...this.keys.values()].filter((k) => k.tenantId === key.tenantId).length;
    if (held >= maxPerTenant)
      throw new QuotaExceededError(`a tenant may hold ${maxPerTenant} keys; revoke one first`);
    this.keys.set(key.hash, clone(key));
  }
  async findApiKeyByHash(hash: string) {
    return clone(this.keys.get(hash));
  }
  async listApiKeys(tenantId: string, page: PageRequest) {
    return paginate(
      sortedBy(
        [...this.keys.values()].filter((k) => k.tenantId === tenantId),
        (k) => k.id,
      ),
      page,
    );
  }
  async deleteApiKey(tenantId: string, keyId: string, keep?: string) {
    const ofTenant = (id: string) =>
      [...this.keys.values()].find((k) => k.tenantId === tenantId && k.id === id);
    const key = ofTenant(keyId);
    if (key && keep && !ofTenant(keep)) throw new DomainError('auth.invalidKey', 'revoked meanwhile');
    if (key) this.keys.delete(key.hash);
    return key;
  }
  async touchApiKey(key: ApiKeyRecord, at: string) {
    const current = this.keys.get(key.hash);
    if (current) current.lastUsedAt = at;
  }

  private applyWrite(write: AppWrite) {
    const { ended } = write;
    const endedKey = ended ? `${ended.record.tenantId}/${ended.record.appUid}/${ended.record.id}` : '';
    if (ended && !sameValue(this.deployments.get(endedKey), ended.read)) {
      throw new DeploymentMovedError(ended.record);
    }
    const tenant = this.tenants.get(write.app.tenantId);
    if (!tenant) throw new TenantNotFoundError(write.app.tenantId);
    if (tenant.status !== 'active' && !write.quota.evenIfSuspended) {
      throw new ForbiddenError('tenant.suspended', 'suspended');
    }
    if (
      tenant.plan !== write.quota.plan.id ||
      this.plans.get(tenant.plan)?.version !== write.quota.plan.version
    ) {
      throw new WriteConflictError();
    }
    if (!write.quota.restores) {
      assertWithinLimits(write.quota.plan.id, write.quota.plan.limits, tenant.reserved, write.quota.delta);
    }
    tenant.reserved = {
      apps: tenant.reserved.apps + write.quota.delta.apps,
      vcpuMilli: tenant.reserved.vcpuMilli + write.quota.delta.vcpuMilli,
      memoryMiB: tenant.reserved.memoryMiB + write.quota.delta.memoryMiB,
    };
    this.apps.set(`${write.app.tenantId}/${write.app.name}`, clone(write.app));
    if (write.revision) {
      const r = write.revision;
      this.revisions.set(`${r.tenantId}/${r.appUid}/${r.number}`, clone(r));
    }
    if (write.deployment) {
      const d = write.deployment;
      this.deployments.set(`${d.tenantId}/${d.appUid}/${d.id}`, clone(d));
    }
    if (write.event) this.events.push(clone(write.event));
    if (ended) this.deployments.set(endedKey, clone(ended.record));
  }

  async createApp(write: AppWrite) {
    if (this.apps.has(`${write.app.tenantId}/${write.app.name}`)) {
      throw new ConflictError('app.exists', `app "${write.app.name}" already exists`);
    }
    this.applyWrite(write);
  }
  async updateApp(write: AppWrite & { read: AppRecord }) {
    if (!sameValue(this.apps.get(`${write.app.tenantId}/${write.app.name}`), write.read)) {
      throw new WriteConflictError();
    }
    this.applyWrite(write);
  }
  async writeRollout({ app, deployment, events = [] }: RolloutWrite) {
    const appKey = app ? `${app.record.tenantId}/${app.record.name}` : '';
    const d = deployment?.record;
    const deploymentKey = d ? `${d.tenantId}/${d.appUid}/${d.id}` : '';
    if (app && !sameValue(this.apps.get(appKey), app.read)) return false;
    if (deployment && !sameValue(this.deployments.get(deploymentKey), deployment.read)) return false;
    if (app) this.apps.set(appKey, clone(app.record));
    if (deployment) this.deployments.set(deploymentKey, clone(deployment.record));
    for (const event of events) await this.addAppEvent(event);
    return true;
  }
  async finalizeAppDeletion(app: AppRecord) {
    const key = `${app.tenantId}/${app.name}`;
    const stored = this.apps.get(key);
    if (stored?.version !== app.version || stored.uid !== app.uid) throw new WriteConflictError();
    this.apps.delete(key);
    const tenant = this.tenants.get(app.tenantId);
    const held = reservationOf(app);
    if (tenant) {
      tenant.reserved = {
        apps: tenant.reserved.apps - held.apps,
        vcpuMilli: tenant.reserved.vcpuMilli - held.vcpuMilli,
        memoryMiB: tenant.reserved.memoryMiB - held.memoryMiB,
      };
    }
  }
  async updateDeployment(deployment: DeploymentRecord, read: DeploymentRecord) {
    const key = `${deployment.tenantId}/${deployment.appUid}/${deployment.id}`;
    if (!sameValue(this.deployments.get(key), read)) return false;
    this.deployments.set(key, clone(deployment));
    return true;
  }
  async addAppEvent(event: AppEventRecord) {
    const same = this.events.findIndex(
      (e) => e.tenantId === event.tenantId && e.appUid === event.appUid && e.id === event.id,
    );
    if (same >= 0) this.events[same] = clone(event);
    else this.events.push(clone(event));
  }
  readonly usageCaps = new Map<string, UsageCapState>();
  async getUsageCapState(tenantId: string) {
    const state = this.usageCaps.get(tenantId);
    return state && clone(state);
  }
  async putUsageCapState(tenantId: string, state: UsageCapState, expected: UsageCapState | undefined) {
    // By what the states hold, as DynamoDB compares maps.
    if (!sameValue(this.usageCaps.get(tenantId), expected)) return false;
    this.usageCaps.set(tenantId, clone(state));
    return true;
  }
  readonly scalerStates = new Map<string, ScalerState>();
  async getScalerState(tenantId: string, appUid: string) {
    const state = this.scalerStates.get(`${tenantId}/${appUid}`);
    return state && clone(state);
  }
  async putScalerState(tenantId: string, appUid: string, state: ScalerState) {
    this.scalerStates.set(`${tenantId}/${appUid}`, clone(state));
  }
  async listAppEvents(tenantId: string, appUid: string, page: PageRequest) {
    const all = this.events.filter((e) => e.tenantId === tenantId && e.appUid === appUid);
    return paginate(
      all.sort((a, b) => (a.id < b.id ? 1 : -1)),
      page,
    );
  }
  async acquireLease(name: string, owner: string, untilMs: number, nowMs: number, unlessTakenSince?: number) {
    const lease = this.leases.get(name);
    if (lease && lease.until >= nowMs && lease.owner !== owner) return false;
    if (lease && unlessTakenSince !== undefined && lease.takenAt >= unlessTakenSince) return false;
    this.leases.set(name, { owner, until: untilMs, takenAt: nowMs, again: false });
    return true;
  }
  async askLeaseAgain(name: string, nowMs: number, askedAt?: number) {
    const lease = this.leases.get(name);
    if (!lease || lease.until < nowMs || (askedAt !== undefined && lease.takenAt >= askedAt)) return false;
    lease.again = true;
    return true;
  }
  async renewLease(name: string, owner: string, untilMs: number) {
    const lease = this.leases.get(name);
    if (lease?.owner !== owner) return false;
    lease.until = untilMs;
    return true;
  }
  async releaseLease(name: string, owner: string, nowMs: number, againUntilMs?: number) {
    const lease = this.leases.get(name);
    if (lease?.owner !== owner) return false;
    if (againUntilMs === undefined || !lease.again) {
      lease.until = 0;
      return false;
    }
    this.leases.set(name, { owner, until: againUntilMs, takenAt: nowMs, again: false });
    return true;
  }
  async getApp(tenantId: string, name: string) {
    return clone(this.apps.get(`${tenantId}/${name}`));
  }
  async listApps(tenantId: string, page: PageRequest) {
    return paginate(
      sortedBy(
        [...this.apps.values()].filter((a) => a.tenantId === tenantId),
        (a) => a.name,
      ),
      page,
    );
  }
  async getRevision(tenantId: string, appUid: string, n: number) {
    return clone(this.revisions.get(`${tenantId}/${appUid}/${n}`));
  }
  async listRevisions(tenantId: string, appUid: string, page: PageRequest) {
    const all = [...this.revisions.values()].filter((r) => r.tenantId === tenantId && r.appUid === appUid);
    return paginate(
      all.sort((a, b) => b.number - a.number),
      page,
    );
  }
  async getDeployment(tenantId: string, appUid: string, id: string) {
    return clone(this.deployments.get(`${tenantId}/${appUid}/${id}`));
  }
  async listDeployments(tenantId: string, appUid: string, page: PageRequest) {
    const all = [...this.deployments.values()].filter((d) => d.tenantId === tenantId && d.appUid === appUid);
    return paginate(
      all.sort((a, b) => (a.id < b.id ? 1 : -1)),
      page,
    );
  }

  async createRepository(tenantId: string, repository: RepositoryRecord, maxPerTenant: number) {
    const key = `${tenantId}/${repository.name}`;
    if (this.repositories.has(key)) return false;
    if (!this.tenants.has(tenantId)) throw new TenantNotFoundError(tenantId);
    const kept = [...this.repositories.keys()].filter((k) => k.startsWith(`${tenantId}/`)).length;
    if (kept >= maxPerTenant)
      throw new QuotaExceededError(`a tenant may keep ${maxPerTenant} repositories; delete one first`);
    this.repositories.set(key, clone(repository));
    return true;
  }
  async completeRepository(tenantId: string, name: string) {
    const repository = this.repositories.get(`${tenantId}/${name}`);
    if (!repository?.pending) return false;
    repository.pending = false;
    return true;
  }
  async listRepositories(tenantId: string) {
    return sortedBy(
      [...this.repositories.entries()].filter(([k]) => k.startsWith(`${tenantId}/`)).map(([, r]) => clone(r)),
      (r) => r.name,
    );
  }
  async getRepository(tenantId: string, name: string) {
    return clone(this.repositories.get(`${tenantId}/${name}`));
  }
  async recordImagePush(tenantId: string, repository: string, image: Image) {
    const images = this.images.get(`${tenantId}/${repository}`) ?? [];
    for (const other of images) other.tags = other.tags.filter((t) => !image.tags.includes(t));
    const existing = images.find((i) => i.digest === image.digest);
    if (existing)
      Object.assign(existing, { ...image, tags: [...new Set([...existing.tags, ...image.tags])] });
    else images.push(clone(image));
    this.images.set(`${tenantId}/${repository}`, images);
  }
  async listImages(tenantId: string, repository: string) {
    return clone(this.images.get(`${tenantId}/${repository}`) ?? []);
  }
  async deleteRepository(tenantId: string, repository: string) {
    this.images.delete(`${tenantId}/${repository}`);
    return this.repositories.delete(`${tenantId}/${repository}`);
  }
  async addUsage(usage: UsageRecord) {
    const id = `${usage.tenantId}/${usage.hour}/${usage.app}`;
    const current = this.usage.get(id) ?? emptyUsage(usage);
    addUsageAmounts(current, usage);
    this.usage.set(id, current);
  }
  async listUsage(tenantId: string, fromHour: string, toHour: string, page: PageRequest) {
    const rows = [...this.usage.values()].filter(
      (u) => u.tenantId === tenantId && u.hour >= fromHour && u.hour <= toHour,
    );
    const shown = pageInMemory(rows, (u) => `${u.hour}#${u.app}`, 'ascending', page);
    return { ...shown, items: shown.items.map(clone) };
  }

  async claimIdempotencyKey(
    scope: string,
    key: string,
    claim: { fingerprint: string; lockedUntil: number; expiresAt: number },
    nowSeconds: number,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }> {
    const id = `${scope}/${key}`;
    const existing = this.idempotency.get(id);
    const free =
      !existing ||
      existing.expiresAt < nowSeconds ||
      (existing.state === 'running' && existing.lockedUntil < nowSeconds);
    if (free) {
      this.idempotency.set(id, { ...claim, state: 'running' });
      return { claimed: true };
    }
    return { claimed: false, existing: clone(existing) };
  }
  async completeIdempotencyKey(scope: string, key: string, response: StoredResponse) {
    const existing = this.idempotency.get(`${scope}/${key}`);
    if (existing) Object.assign(existing, { state: 'done', response: clone(response) });
  }
  async releaseIdempotencyKey(scope: string, key: string) {
    this.idempotency.delete(`${scope}/${key}`);
  }
  readonly requestCounts = new Map<string, number>();
  async countRequest(caller: string, windowStart: number, _expiresAt: number, requests: number) {
    const key = `${caller}/${windowStart}`;
    const count = (this.requestCounts.get(key) ?? 0) + requests;
    this.requestCounts.set(key, count);
    return count;
  }
}
