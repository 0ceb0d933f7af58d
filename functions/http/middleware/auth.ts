import { createMiddleware } from 'hono/factory';
import type { KeyAuthenticator } from '../../core/api-keys.ts';
import { DomainError } from '../../core/errors.ts';
import type { ApiEnv } from '../context.ts';

/** Resolves `Authorization: Bearer bk_…` to a principal (401 auth.invalidKey otherwise). */
export function authenticate(auth: KeyAuthenticator) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const secret = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    c.set('principal', await auth.authenticate(secret));
    await next();
  });
}

/** Lets only keys of `role` through (403 auth.forbidden). */
export function requireRole(role: 'admin' | 'tenant') {
  return createMiddleware<ApiEnv>(async (c, next) => {
    if (c.get('principal').role !== role) {
      throw new DomainError(
        'auth.forbidden',
        `this route needs ${role === 'admin' ? 'an admin' : 'a tenant'} key`,
      );
    }
    await next();
  });
}
