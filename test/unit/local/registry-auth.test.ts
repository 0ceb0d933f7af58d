import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DistributionRegistry } from '../../../functions/adapters/registry/distribution-registry.ts';
import {
  LoginCredentialSigner,
  RegistryTokenIssuer,
} from '../../../functions/adapters/registry/registry-tokens.ts';
import { libtrustKeyId } from '../../../functions/adapters/registry/token-keys.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createRepository } from '../../../functions/core/repositories.ts';
import { createTenant, updateTenant } from '../../../functions/core/tenants.ts';
import { registryAuthRoutes } from '../../../functions/local/registry-auth-routes.ts';
import { ensureRegistrySecrets } from '../../../functions/local/registry-secrets.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { failingCalls } from '../../support/failing-calls.ts';

const decode = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('registry token service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-unit-'));
  const secrets = ensureRegistrySecrets(dir);
  const tokens = new RegistryTokenIssuer({
    privateKeyPem: secrets.privateKeyPem,
    keyId: secrets.keyId,
    issuer: 'berth',
    service: 'berth-registry',
  });
  const logins = new LoginCredentialSigner(secrets.secret);
  const logged: { message: string; details: Record<string, unknown> }[] = [];
  const logger = {
    error: (message: string, details: Record<string, unknown>) => logged.push({ message, details }),
  };
  let auth: ReturnType<typeof registryAuthRoutes>;
  let registry: DistributionRegistry;
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>>;

  beforeAll(async () => {
    deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    await createTenant(deps, { id: 'beta', name: 'Beta', plan: 'pro' });
    registry = new DistributionRegistry({
      host: '127.0.0.1:1',
      store: deps.store,
      tokens,
      logins,
      now: () => new Date(),
    });
    auth = registryAuthRoutes({
      store: deps.store,
      tokens,
      logins,
      registry,
      notifySecret: 'n0tify',
      logger,
    });
  });

  it('keeps its keys across restarts and names them as libtrust does', () => {
    expect(ensureRegistrySecrets(dir)).toEqual(secrets);
    expect(secrets.keyId).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect(
      libtrustKeyId(
        createPublicKey(secrets.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString(),
      ),
    ).toBe(secrets.keyId);
  });

  it('signs login credentials for one tenant that expire and cannot be forged', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    const login = logins.mint('acme', 600, now);
    expect(login).toMatchObject({ username: 'acme', expiresAt: '2026-11-22T10:10:00.000Z' });
    expect(logins.verify('acme', login.password, now + 599_000)).toBe('acme');
    expect(logins.verify('acme', login.password, now + 601_000)).toBeUndefined();
    expect(logins.verify('beta', login.password, now)).toBeUndefined();
    expect(logins.verify('acme', `${login.password.slice(0, -2)}xx`, now)).toBeUndefined();
    expect(new LoginCredentialSigner(Buffer.alloc(32)).verify('acme', login.password, now)).toBeUndefined();
  });

  it('issues ES256 tokens the registry can verify, with the access claim it asked for', () => {
    const token = tokens.issue(
      'acme',
      [{ type: 'repository', name: 'acme/web', actions: ['pull'] }],
      300,
      1_000_000,
    );
    const [header = '', claims = '', signature = ''] = token.split('.');
    expect(decode(header)).toEqual({ alg: 'ES256', typ: 'JWT', kid: secrets.keyId });
    expect(decode(claims)).toEqual({
      iss: 'berth',
      sub: 'acme',
      aud: 'berth-registry',
      iat: 1000,
      // Valid from a little before it is made, so that a registry whose clock is a few seconds behind takes it.
      nbf: 995,
      exp: 1300,
      // Each token its own id.
      jti: expect.stringMatching(/^[0-9a-f]{24}$/),
      access: [{ type: 'repository', name: 'acme/web', actions: ['pull'] }],
    });
    const valid = verify(
      'sha256',
      Buffer.from(`${header}.${claims}`),
      { key: createPublicKey(secrets.privateKeyPem), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
    expect(valid).toBe(true);
  });

  const askFor = (tenantId: string, scopes: string[]) =>
    auth.request(
      `/registry/auth?service=berth-registry&${scopes.map((s) => `scope=${encodeURIComponent(s)}`).join('&')}`,
      { headers: { authorization: basic(tenantId, logins.mint(tenantId, 600).password) } },
    );

  it('grants a tenant push to the repositories it created and pull on its own only', async () => {
    await createRepository({ ...deps, registry }, 'acme', 'web');
    const res = await askFor('acme', [
      'repository:acme/web:pull,push',
      'repository:acme/never-created:pull',
      'repository:beta/web:pull,push',
      'repository:acme/a/b:pull',
      // A name the API could not have made, and actions a tenant is never given.
      'repository:acme/Not_A_Name:pull',
      'repository:acme/web:delete,*',
      'registry:catalog:*',
      'repository:acme/web',
    ]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string };
    // As Docker's token protocol answers: the token under both its names, and how long it lasts (a client takes 60 s
    // without it, and asks again five times as often).
    expect(body).toEqual({
      token: body.token,
      access_token: body.token,
      expires_in: 300,
      issued_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
    });
    expect(decode(body.token.split('.')[1] ?? '').access).toEqual([
      { type: 'repository', name: 'acme/web', actions: ['pull', 'push'] },
      { type: 'repository', name: 'acme/never-created', actions: ['pull'] },
    ]);
  });

  it('refuses a push to a repository the tenant has not created, naming the call that creates it', async () => {
    const res = await askFor('acme', ['repository:acme/web:pull', 'repository:acme/api:pull,push']);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      errors: [
        {
          code: 'DENIED',
          message:
            'repository "api" does not exist; create it with POST /v1/repositories {"name":"api"} before pushing',
        },
      ],
    });
  });

  it('refuses bad, foreign or suspended credentials and unsigned notifications', async () => {
    const acme = logins.mint('acme', 600).password;
    for (const authorization of [basic('beta', acme), basic('acme', 'brc_x.y'), 'Bearer x', '']) {
      const res = await auth.request('/registry/auth?scope=repository:acme/web:pull', {
        headers: { authorization },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    await updateTenant(deps, 'acme', { status: 'suspended' });
    const suspended = await auth.request('/registry/auth', {
      headers: { authorization: basic('acme', acme) },
    });
    expect(suspended.status).toBe(401);
    await updateTenant(deps, 'acme', { status: 'active' });

    const unsigned = await auth.request('/registry/events', { method: 'POST', body: '{"events":[]}' });
    expect(unsigned.status).toBe(401);
    const signed = await auth.request('/registry/events', {
      method: 'POST',
      headers: { authorization: 'Bearer n0tify' },
      body: '{"events":[{"action":"pull"}]}',
    });
    expect(signed.status).toBe(200);
  });

  it("records a manifest's push from the registry's notifications, and nothing else they tell of", async () => {
    const recorded = vi.spyOn(registry, 'recordPush').mockResolvedValue();
    const manifest = 'application/vnd.oci.image.manifest.v1+json';
    const digest = `sha256:${'a'.repeat(64)}`;
    const at = '2026-11-22T10:00:00.000Z';
    // As the distribution registry notifies: every pull and push, of layers as of manifests.
    const events = [
      {
        action: 'pull',
        timestamp: at,
        target: { mediaType: manifest, digest, repository: 'acme/web', tag: 'v1' },
      },
      {
        action: 'push',
        timestamp: at,
        target: { mediaType: 'application/octet-stream', digest, repository: 'acme/web' },
      },
      { action: 'push', timestamp: at, target: { mediaType: manifest, repository: 'acme/web', tag: 'v1' } },
      { action: 'push', timestamp: at, target: { mediaType: manifest, digest, tag: 'v1' } },
      { action: 'push', timestamp: at, target: { mediaType: manifest, digest, repository: 'acme' } },
      {
        action: 'push',
        timestamp: at,
        target: { mediaType: manifest, digest, repository: 'acme/web', tag: 'v1' },
      },
      {
        action: 'push',
        target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest, repository: 'acme/api' },
      },
    ];
    const notified = await auth.request('/registry/events', {
      method: 'POST',
      headers: { authorization: 'Bearer n0tify' },
      body: JSON.stringify({ events }),
    });
    expect(notified.status).toBe(200);
    expect(recorded.mock.calls).toEqual([
      ['acme', 'web', { digest, tag: 'v1', at }],
      // Pushed without a tag (by digest), and with no time given: the time it is told.
      ['acme', 'api', { digest, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
    ]);
    recorded.mockRestore();
  });

  it("answers what it cannot do in the registry's error format and logs it: 503 while a dependency is unavailable, 500 naming nothing of what broke otherwise", async () => {
    const routesFailing = (store: typeof deps.store, failingRegistry: DistributionRegistry) =>
      registryAuthRoutes({
        store,
        tokens,
        logins,
        registry: failingRegistry,
        notifySecret: 'n0tify',
        logger,
      });
    const login = { authorization: basic('acme', logins.mint('acme', 600).password) };
    const secret = new Error('ECONNREFUSED 127.0.0.1:8000');
    logged.length = 0;

    const unavailable = await routesFailing(
      failingCalls(deps.store, 'getTenant', new UnavailableError('the table is unavailable; retry shortly')),
      registry,
    ).request('/registry/auth?scope=repository:acme/web:pull', { headers: login });
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toEqual({
      errors: [{ code: 'UNAVAILABLE', message: 'the table is unavailable; retry shortly' }],
    });

    const broken = await routesFailing(failingCalls(deps.store, 'getTenant', secret), registry).request(
      '/registry/auth?scope=repository:acme/web:pull',
      { headers: login },
    );
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({
      errors: [{ code: 'UNKNOWN', message: 'an internal error occurred; it has been logged' }],
    });

    const notified = await routesFailing(deps.store, failingCalls(registry, 'recordPush', secret)).request(
      '/registry/events',
      {
        method: 'POST',
        headers: { authorization: 'Bearer n0tify' },
        body: JSON.stringify({
          events: [
            {
              action: 'push',
              target: {
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                digest: `sha256:${'a'.repeat(64)}`,
                repository: 'acme/web',
              },
            },
          ],
        }),
      },
    );
    expect(notified.status).toBe(500);
    expect(
      logged.map(({ message, details }) => [message, details.method, details.path, details.error]),
    ).toEqual([
      ['registry auth failed', 'GET', '/registry/auth', expect.objectContaining({ code: 'unavailable' })],
      ['registry auth failed', 'GET', '/registry/auth', secret],
      ['registry auth failed', 'POST', '/registry/events', secret],
    ]);
  });
});
