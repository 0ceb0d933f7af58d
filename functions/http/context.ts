import type { KeyAuthenticator, Principal } from '../core/api-keys.ts';
import type { CoreDeps, Store } from '../core/ports.ts';
import type { RateLimitOptions } from './middleware/rate-limit.ts';
import type { ErrorLogger } from './problem.ts';

/** What the HTTP app is built from; one composition root per mode provides it. */
export interface ApiDeps extends CoreDeps {
  store: Store;
  auth: KeyAuthenticator;
  rateLimit: RateLimitOptions;
  logger: ErrorLogger;
}

export type ApiEnv = { Variables: { principal: Principal } };

/** The tenant a tenant route acts for: only ever the authenticated key's. */
export function tenantOf(principal: Principal): string {
  if (principal.role !== 'tenant') throw new Error('tenant routes are guarded by requireRole("tenant")');
  return principal.tenantId;
}
