import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { DistributionRegistry } from '../adapters/registry/distribution-registry.ts';
import type { LoginCredentialSigner, RegistryTokenIssuer } from '../adapters/registry/registry-tokens.ts';
import { isDomainError, NotFoundError } from '../core/errors.ts';
import type { Store } from '../core/ports.ts';
import { type RepositoryGrant, registryGrants } from '../core/repositories.ts';
import { type ErrorLogger, INTERNAL_ERROR_DETAIL } from '../http/problem.ts';

const TOKEN_TTL_SECONDS = 300;
const MANIFEST_MEDIA = /manifest|image\.index/;

export interface RegistryAuthDeps {
  store: Store;
  tokens: RegistryTokenIssuer;
  logins: LoginCredentialSigner;
  registry: DistributionRegistry;
  notifySecret: string;
  logger: ErrorLogger;
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const encoded = header?.match(/^Basic\s+(\S+)$/i)?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The registry's side of Berth in local mode: Docker's token protocol (`GET /registry/auth`), granting each
 * tenant pull on `<tenant>/<name>` and push to the repositories it created, and the registry's push notifications
 * (`POST /registry/events`).
 */
export function registryAuthRoutes(deps: RegistryAuthDeps) {
  const app = new Hono();
  // What the routes do not answer themselves (the table or the registry unavailable for a moment) is logged as the
  // API logs it and answered in the registry's error format, which Docker prints; the registry sends a notification
  // that was not taken again.
  app.onError((err, c) => {
    deps.logger.error('registry auth failed', { path: c.req.path, method: c.req.method, error: err });
    return isDomainError(err, 'unavailable')
      ? c.json({ errors: [{ code: 'UNAVAILABLE', message: err.message }] }, 503)
      : c.json({ errors: [{ code: 'UNKNOWN', message: INTERNAL_ERROR_DETAIL }] }, 500);
  });
  app.get('/registry/auth', async (c) => {
    const credentials = basicCredentials(c.req.header('authorization'));
    const tenantId = credentials && deps.logins.verify(credentials.username, credentials.password);
    const tenant = tenantId ? await deps.store.getTenant(tenantId) : undefined;
    if (!tenantId || tenant?.status !== 'active') {
      c.header('www-authenticate', 'Basic realm="berth-registry"');
      return c.json(
        { errors: [{ code: 'UNAUTHORIZED', message: 'get credentials with POST /v1/registry/token' }] },
        401,
      );
    }
    const asked = (c.req.queries('scope') ?? []).flatMap((scope) => {
      const [type, repository, actions] = scope.split(':');
      return type === 'repository' && repository && actions
        ? [{ repository, actions: actions.split(',') }]
        : [];
    });
    let grants: RepositoryGrant[];
    try {
      grants = await registryGrants(deps.store, tenantId, asked);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // Docker prints a token service's errors as `<code>: <message>`.
      return c.json({ errors: [{ code: 'DENIED', message: err.message }] }, 403);
    }
    const access = grants.map(({ repository, actions }) => ({
      type: 'repository' as const,
      name: repository,
      actions,
    }));
    const token = deps.tokens.issue(tenantId, access, TOKEN_TTL_SECONDS);
    return c.json({
      token,
      access_token: token,
      expires_in: TOKEN_TTL_SECONDS,
      issued_at: new Date().toISOString(),
    });
  });

  app.post('/registry/events', async (c) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    const expected = Buffer.from(`Bearer ${deps.notifySecret}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return c.body(null, 401);
    const { events = [] } = (await c.req.json().catch(() => ({}))) as {
      events?: {
        action?: string;
        timestamp?: string;
        target?: { mediaType?: string; digest?: string; repository?: string; tag?: string };
      }[];
    };
    for (const event of events) {
      const target = event.target;
      if (
        event.action !== 'push' ||
        !target?.digest ||
        !target.repository ||
        !MANIFEST_MEDIA.test(target.mediaType ?? '')
      )
        continue;
      const [tenantId, name] = target.repository.split('/');
      if (!tenantId || !name) continue;
      await deps.registry.recordPush(tenantId, name, {
        digest: target.digest,
        ...(target.tag ? { tag: target.tag } : {}),
        at: event.timestamp ? new Date(event.timestamp).toISOString() : new Date().toISOString(),
      });
    }
    return c.body(null, 200);
  });
  return app;
}
