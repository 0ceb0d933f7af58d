import type { Context } from 'hono';
import type { Author } from '../../schemas/app.ts';
import type { KeyAuthenticator, Principal } from '../core/api-keys.ts';
import { UnavailableError } from '../core/errors.ts';
import type { AnswerCache, RegistryDeps, ReplicaViews, RuntimeViewDeps, Store } from '../core/ports.ts';
import type { AuditLog } from './middleware/audit.ts';
import type { RateLimitOptions } from './middleware/rate-limit.ts';
import type { ErrorLogger } from './problem.ts';

/** Limits of a gateway that buffers the API's answers (see `ApiDeps.bufferedAnswers`). */
export interface BufferedAnswers {
  waitMs: number;
  /** The most a streamed body may take as the gateway carries it (bodyBytesCarried). */
  maxBodyBytes: number;
}

/**
 * What a text body takes in a buffered answer: the Lambda's answer carries it as a JSON string, where each `"`, `\`
 * and control character is escaped (a newline takes 2 bytes, the ESC of an ANSI colour 6).
 */
export const bodyBytesCarried = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;

/** What the HTTP app is built from; one composition root per mode provides it. */
export interface ApiDeps extends RegistryDeps {
  store: Store;
  auth: KeyAuthenticator;
  rateLimit: RateLimitOptions;
  logger: ErrorLogger;
  /** Where each request that may change something is recorded, with its key. */
  audit: AuditLog;
  /** How the replicas of each runtime are seen; absent in an API-only process. */
  views?: ReplicaViews;
  /**
   * Set where a gateway buffers the API's answers — AWS mode: API Gateway waits at most 30 s for a Lambda's whole
   * answer, which may be at most 6 MB. Requests that wait for something (a deployment's `wait`, a log `follow`) then
   * answer within `waitMs` with what they have, and a streamed body ends before `maxBodyBytes`.
   */
  bufferedAnswers?: BufferedAnswers;
  /** See `RuntimeViewDeps.recentInstances`. */
  recentInstances?: AnswerCache;
}

/** The deps of routes that look at running replicas, or 503 when this process has no runtime wired. */
export function runtimeView(deps: ApiDeps): RuntimeViewDeps {
  const { views } = deps;
  if (!views) throw new UnavailableError('this API process has no runtime attached');
  return { ...deps, views };
}

export type ApiEnv = {
  Variables: {
    principal: Principal;
    requestId: string;
    /** Charges the request to its caller's rate limit as `count` more requests (429 when over). */
    chargeRequests: (count: number) => Promise<void>;
  };
};

/**
 * Where a gateway buffers answers, a waiting request (a deployment's `wait`, a followed log) holds its process — a
 * Lambda instance — all along: it waits at most `waitMs`, and each second it may wait beyond the first is charged to
 * its key as one more request, so a key keeps only about its `ratePerSecond` of them waiting at once rather than
 * the whole account's Lambda concurrency. Returns the seconds the request may wait.
 */
export async function chargeWait(c: Context<ApiEnv>, deps: ApiDeps, seconds: number): Promise<number> {
  const buffered = deps.bufferedAnswers;
  if (!buffered) return seconds;
  const bounded = Math.min(seconds, buffered.waitMs / 1000);
  if (bounded > 1) await c.get('chargeRequests')(Math.ceil(bounded) - 1);
  return bounded;
}

/** Who calls a tenant route: a tenant, through one of its keys (never an admin: the route is guarded). */
export function tenantCaller(principal: Principal): Extract<Principal, { role: 'tenant' }> {
  if (principal.role !== 'tenant') throw new Error('tenant routes are guarded by requireRole("tenant")');
  return principal;
}

/** The key a tenant route's request came with, as a deployment it makes records it. */
export function authorOf(principal: Principal): Author {
  const { keyId, keyName } = tenantCaller(principal);
  return { keyId, keyName };
}

/** The tenant a tenant route acts for: only ever the authenticated key's. */
export const tenantOf = (principal: Principal): string => tenantCaller(principal).tenantId;
