import { describe, expect, it } from 'vitest';
import {
  generateApiKey,
  hashApiKey,
  issueTenantKey,
  makeKeyAuthenticator,
  revokeTenantKey,
} from '../../../functions/core/api-keys.ts';
import type { ApiKeyRecord } from '../../../functions/core/ports.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const logger = { error: () => {} };

describe('API keys', () => {
  it('generates bk_ keys with 32 random bytes and stores only their hash', async () => {
    const deps = await fakeCoreDeps();
    const { apiKey } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    expect(apiKey.key).toMatch(/^bk_[A-Za-z0-9_-]{43}$/);
    const stored = JSON.stringify([...deps.store.keys.values()]);
    expect(stored).not.toContain(apiKey.key);
    expect(stored).toContain(hashApiKey(apiKey.key));
    expect(generateApiKey()).not.toBe(generateApiKey());
  });

  it('authenticates tenant and admin keys and rejects others', async () => {
    const deps = await fakeCoreDeps();
    const admin = generateApiKey();
    const auth = makeKeyAuthenticator(deps, {
      adminKeyHashes: [hashApiKey(admin)],
      cacheTtlMs: 1000,
      logger,
    });
    const { apiKey } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    await expect(auth.authenticate(admin)).resolves.toEqual({ role: 'admin', keyPrefix: admin.slice(0, 9) });
    await expect(auth.authenticate(apiKey.key)).resolves.toMatchObject({ role: 'tenant', tenantId: 'acme' });
    await expect(auth.authenticate(generateApiKey())).rejects.toMatchObject({ code: 'auth.invalidKey' });
    await expect(auth.authenticate(undefined)).rejects.toMatchObject({ code: 'auth.invalidKey' });
  });

  it('takes either of two admin keys during a rotation, each known by its prefix, and no other', async () => {
    const deps = await fakeCoreDeps();
    const [current, next] = [generateApiKey(), generateApiKey()];
    const auth = makeKeyAuthenticator(deps, {
      adminKeyHashes: [hashApiKey(next), hashApiKey(current)],
      logger,
    });
    for (const key of [current, next]) {
      await expect(auth.authenticate(key)).resolves.toEqual({ role: 'admin', keyPrefix: key.slice(0, 9) });
    }
    await expect(auth.authenticate(generateApiKey())).rejects.toMatchObject({ code: 'auth.invalidKey' });
  });

  it('stops a revoked key within the cache TTL, and at once after forget()', async () => {
    const deps = await fakeCoreDeps();
    const auth = makeKeyAuthenticator(deps, {
      adminKeyHashes: [hashApiKey(generateApiKey())],
      cacheTtlMs: 1000,
      logger,
    });
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    const second = await issueTenantKey(deps, 'acme');
    await auth.authenticate(second.key);
    const hash = await revokeTenantKey(deps, 'acme', second.id);
    // Another process revoked it: the cached entry expires within the TTL.
    deps.clock.advance(1001);
    await expect(auth.authenticate(second.key)).rejects.toMatchObject({ code: 'auth.invalidKey' });
    const third = await issueTenantKey(deps, 'acme');
    await auth.authenticate(third.key);
    auth.forget(await revokeTenantKey(deps, 'acme', third.id));
    await expect(auth.authenticate(third.key)).rejects.toMatchObject({ code: 'auth.invalidKey' });
    expect(hash).toBe(hashApiKey(second.key));
  });

  it("records a key's last use beside the request, at most once a minute, and a failed record fails nothing", async () => {
    const deps = await fakeCoreDeps();
    const errors: Record<string, unknown>[] = [];
    const auth = makeKeyAuthenticator(deps, {
      adminKeyHashes: [hashApiKey(generateApiKey())],
      cacheTtlMs: 1000,
      logger: { error: (_message, details) => errors.push(details) },
    });
    const { apiKey } = await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    const touches: { at: string; done: () => void }[] = [];
    const touch = deps.store.touchApiKey.bind(deps.store);
    deps.store.touchApiKey = (key: ApiKeyRecord, at: string) =>
      new Promise<void>((resolve) => touches.push({ at, done: () => void touch(key, at).then(resolve) }));
    const stored = () => deps.store.keys.get(hashApiKey(apiKey.key))?.lastUsedAt;

    // Authenticated while the write is still pending; flush() waits for it.
    await expect(auth.authenticate(apiKey.key)).resolves.toMatchObject({ tenantId: 'acme' });
    expect(touches).toHaveLength(1);
    expect(stored()).toBeNull();
    let flushed = false;
    const flushing = auth.flush().then(() => {
      flushed = true;
    });
    await Promise.resolve();
    expect(flushed).toBe(false);
    touches[0]?.done();
    await flushing;
    expect(stored()).toBe(touches[0]?.at);

    // Within the minute: no write; after it, one more.
    deps.clock.advance(30_000);
    await auth.authenticate(apiKey.key);
    expect(touches).toHaveLength(1);
    deps.clock.advance(31_000);
    deps.store.touchApiKey = async () => {
      throw new Error('throttled');
    };
    await expect(auth.authenticate(apiKey.key)).resolves.toMatchObject({ tenantId: 'acme' });
    await auth.flush();
    // The log line names the key whose use went unrecorded.
    expect(errors).toEqual([{ tenantId: 'acme', keyId: apiKey.id, error: new Error('throttled') }]);
  });
});
