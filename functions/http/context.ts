import type { KeyAuthenticator, Principal } from '../core/api-keys.ts';
import { UnavailableError } from '../core/errors.ts';
import type { RegistryDeps, ReplicaViews, RuntimeViewDeps, Store } from '../core/ports.ts';
import type { RateLimitOptions } from './middleware/rate-limit.ts';
import type { ErrorLogger } from './problem.ts';

/** Limits of a gateway that buffers the API's answers (see `ApiDeps.bufferedAnswers`). */
export interface BufferedAnswers {
  waitMs: number;
  maxBodyBytes: number;
}

/** What the HTTP app is built from; one composition root per mode provides it. */
export interface ApiDeps extends RegistryDeps {
  store: Store;
  auth: KeyAuthenticator;
  rateLimit: RateLimitOptions;
  logger: ErrorLogger;
  /** How the replicas of each runtime are seen; absent in an API-only process. */
  views?: ReplicaViews;
  /**
   * Set where a gateway buffers the API's answers — AWS mode: API Gateway waits at most 30 s for a Lambda's whole
   * answer, which may be at most 6 MB. Requests that wait for something (a deployment's `wait`, a log `follow`) then
   * answer within `waitMs` with what they have, and a streamed body ends before `maxBodyBytes`.
   */
  bufferedAnswers?: BufferedAnswers;
}

/** The deps of routes that look at running replicas, or 503 when this process has no runtime wired. */
export function runtimeView(deps: ApiDeps): RuntimeViewDeps {
  const { views } = deps;
  if (!views) throw new UnavailableError('this API process has no runtime attached');
  return { ...deps, views };
}

export type ApiEnv = { Variables: { principal: Principal; requestId: string } };

/** The tenant a tenant route acts for: only ever the authenticated key's. */
export function tenantOf(principal: Principal): string {
  if (principal.role !== 'tenant') throw new Error('tenant routes are guarded by requireRole("tenant")');
  return principal.tenantId;
}
