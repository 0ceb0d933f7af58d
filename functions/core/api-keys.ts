import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKey, ApiKeyCreated } from '../../schemas/api-key.ts';
import type { Page } from '../../schemas/common.ts';
import { DomainError, NotFoundError, TenantNotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { InFlight } from './in-flight.ts';
import type { ApiKeyRecord, CoreDeps, PageRequest } from './ports.ts';
import { MAX_KEYS_PER_TENANT } from './tenant-caps.ts';

const KEY_PREFIX = 'bk_';

/**
 * Who a request acts as. Tenant principals carry the only tenant id a tenant route ever uses, and their key's id and
 * name; an admin key is known by its prefix (it has no id: it is the install's, not the table's).
 */
export type Principal =
  | { role: 'admin'; keyPrefix: string }
  | { role: 'tenant'; tenantId: string; keyId: string; keyName: string | null };

/** SHA-256 of a key, hex: the only form a key is stored in. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What a key is known by where its secret is not shown (its listing, the audit log): `bk_` and six characters. */
export const keyPrefixOf = (key: string) => key.slice(0, KEY_PREFIX.length + 6);

/** A new secret `bk_<43 chars of base64url = 32 random bytes>`. */
export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The form of an admin key kept outside the table (local mode's BERTH_ADMIN_KEY and `admin-key` file): `bk_` and at
 * least 32 base64url characters, 192 bits when random; a generated key has 43.
 */
export const ADMIN_KEY_FORM = {
  pattern: /^bk_[A-Za-z0-9_-]{32,}$/,
  words: 'bk_ followed by at least 32 base64url characters',
};

function toApiKey(record: ApiKeyRecord): ApiKey {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.prefix,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
  };
}

/**
 * Makes a tenant key record (named `name`, if given) and its secret; the caller stores the record and shows the
 * secret once.
 */
export function newTenantKey(
  tenantId: string,
  at: Date,
  name?: string,
): { record: ApiKeyRecord; created: ApiKeyCreated } {
  const key = generateApiKey();
  const record: ApiKeyRecord = {
    id: newId('key', at),
    tenantId,
    name: name ?? null,
    role: 'tenant',
    prefix: keyPrefixOf(key),
    hash: hashApiKey(key),
    createdAt: at.toISOString(),
    lastUsedAt: null,
  };
  return { record, created: { id: record.id, name: record.name, key, role: 'tenant' } };
}

/**
 * Stores another key, named `name` if given, for a tenant (at most MAX_KEYS_PER_TENANT a tenant); its secret, shown
 * once. 404 tenant.notFound for a tenant there is not, or no longer: the store writes a key only with its tenant's
 * count, on the tenant's own item.
 */
export async function issueTenantKey(
  deps: CoreDeps,
  tenantId: string,
  name?: string,
): Promise<ApiKeyCreated> {
  const { record, created } = newTenantKey(tenantId, deps.clock.now(), name);
  await deps.store.createApiKey(record, MAX_KEYS_PER_TENANT);
  return created;
}

export async function listTenantKeys(
  deps: CoreDeps,
  tenantId: string,
  page: PageRequest,
): Promise<Page<ApiKey>> {
  if (!(await deps.store.getTenant(tenantId))) {
    throw new TenantNotFoundError(tenantId);
  }
  const keys = await deps.store.listApiKeys(tenantId, page);
  return { items: keys.items.map(toApiKey), nextCursor: keys.nextCursor };
}

/**
 * Deletes a key (with `keep`, only while that key still exists); returns its hash so in-process caches can forget
 * it at once.
 */
export async function revokeTenantKey(
  deps: CoreDeps,
  tenantId: string,
  keyId: string,
  keep?: string,
): Promise<string> {
  const deleted = await deps.store.deleteApiKey(tenantId, keyId, keep);
  if (!deleted)
    throw new NotFoundError('key.notFound', `key "${keyId}" does not exist for tenant "${tenantId}"`);
  return deleted.hash;
}

export interface KeyAuthenticator {
  /** Resolves a bearer secret to its principal; DomainError('auth.invalidKey') when it is unknown or revoked. */
  authenticate(secret: string | undefined): Promise<Principal>;
  /** Drops a key from the cache, so a revocation in this process takes effect for the very next request. */
  forget(hash: string): void;
  /** Resolves once the last-use writes started so far are done (a Lambda awaits it before it returns). */
  flush(): Promise<void>;
}

export interface KeyAuthenticatorOptions {
  /** SHA-256 hex of the bootstrap admin key; two during its rotation, each an admin key. */
  adminKeyHashes: readonly string[];
  /**
   * How long a lookup is reused; revocation by another process (another Lambda instance) takes effect within this
   * time, in this one at once. 1 s by default.
   */
  cacheTtlMs?: number;
  /** lastUsedAt is written at most this often per key. */
  touchIntervalMs?: number;
  /** Where a failed lastUsedAt write is reported; it never fails the request. */
  logger: { error(message: string, details: Record<string, unknown>): void };
}

/**
 * Authenticates bearer keys against the store with a short cache: a revoked key stops working in this process at
 * once (`forget`) and everywhere within `cacheTtlMs`.
 */
export function makeKeyAuthenticator(deps: CoreDeps, options: KeyAuthenticatorOptions): KeyAuthenticator {
  const adminHashes = options.adminKeyHashes.map((hash) => Buffer.from(hash, 'hex'));
  const cacheTtlMs = options.cacheTtlMs ?? 1000;
  const touchIntervalMs = options.touchIntervalMs ?? 60_000;
  const cache = new Map<string, { record: ApiKeyRecord | undefined; expiresAt: number }>();
  const touches = new InFlight();
  const invalid = () =>
    new DomainError('auth.invalidKey', 'a valid API key is required: Authorization: Bearer bk_…');

  async function lookup(hash: string, nowMs: number): Promise<ApiKeyRecord | undefined> {
    const cached = cache.get(hash);
    if (cached && cached.expiresAt > nowMs) return cached.record;
    const record = await deps.store.findApiKeyByHash(hash);
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { record, expiresAt: nowMs + cacheTtlMs });
    return record;
  }

  return {
    async authenticate(secret) {
      if (!secret?.startsWith(KEY_PREFIX) || secret.length > 200) throw invalid();
      const hash = hashApiKey(secret);
      const hashBytes = Buffer.from(hash, 'hex');
      if (
        adminHashes.some(
          (adminHash) => hashBytes.length === adminHash.length && timingSafeEqual(hashBytes, adminHash),
        )
      )
        return { role: 'admin', keyPrefix: keyPrefixOf(secret) };
      const now = deps.clock.now();
      const record = await lookup(hash, now.getTime());
      if (!record) throw invalid();
      if (!record.lastUsedAt || now.getTime() - Date.parse(record.lastUsedAt) > touchIntervalMs) {
        record.lastUsedAt = now.toISOString();
        // Bookkeeping, not authentication: the write runs beside the request instead of before it.
        touches.track(
          deps.store.touchApiKey(record, record.lastUsedAt).catch((err: unknown) =>
            options.logger.error('could not record when a key was last used', {
              tenantId: record.tenantId,
              keyId: record.id,
              error: err,
            }),
          ),
        );
      }
      return { role: 'tenant', tenantId: record.tenantId, keyId: record.id, keyName: record.name };
    },
    forget(hash) {
      cache.delete(hash);
    },
    flush: () => touches.flush(),
  };
}
