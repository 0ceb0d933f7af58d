import type { ApiKeyCreated } from '../../schemas/api-key.ts';
import { issueTenantKey, revokeTenantKey } from './api-keys.ts';
import { ConflictError } from './errors.ts';
import type { CoreDeps } from './ports.ts';
import { getActiveTenant } from './tenants.ts';

/* A tenant's own keys, so it rotates them without asking the platform team: its key makes another, then that one
 * revokes the first. */

/** Who asks: a tenant, through one of its keys. */
export interface KeyHolder {
  tenantId: string;
  keyId: string;
}

/**
 * Another key for the asking tenant, named `name` if given (at most MAX_KEYS_PER_TENANT in all); a suspended tenant
 * makes none.
 */
export async function createOwnKey(deps: CoreDeps, holder: KeyHolder, name?: string): Promise<ApiKeyCreated> {
  await getActiveTenant(deps, holder.tenantId);
  return issueTenantKey(deps, holder.tenantId, name);
}

/**
 * Revokes one of the tenant's keys, even while it is suspended (a leaked key must always be revocable), but never the
 * key asking, and only while that key is still valid: so the tenant always keeps a key, even when two of its keys
 * revoke each other at once. Returns the key's hash (see `revokeTenantKey`).
 */
export async function revokeOwnKey(deps: CoreDeps, holder: KeyHolder, keyId: string): Promise<string> {
  if (keyId === holder.keyId) {
    throw new ConflictError(
      'key.inUse',
      'this is the key the request came with; revoke it with another of your keys (POST /v1/keys makes one)',
    );
  }
  return revokeTenantKey(deps, holder.tenantId, keyId, holder.keyId);
}
