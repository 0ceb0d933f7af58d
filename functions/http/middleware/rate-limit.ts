import { createMiddleware } from 'hono/factory';
import { DomainError } from '../../core/errors.ts';
import type { Clock, Store } from '../../core/ports.ts';
import type { ApiEnv } from '../context.ts';

export interface RateLimitOptions {
  /** Sustained requests per second per caller: a tenant (all its keys together), or the admin. */
  ratePerSecond: number;
  /** Requests a caller may send at once after a quiet spell. */
  burst: number;
  /**
   * Count every caller's requests in the table, shared by all API processes, instead of in this process: for
   * installs that run many (AWS mode, where each Lambda instance is one). Costs one write per request.
   */
  shared?: boolean;
}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate.limited', `too many requests; retry after ${retryAfterSeconds} s`);
  }
}

/**
 * Takes `cost` requests of a caller at `now` (ms): undefined when it may go on, else the seconds until it may retry.
 * A cost is never above the burst, so it can always be paid.
 */
type Limiter = (id: string, now: number, cost: number) => Promise<number | undefined>;

/** A shared window's count outlives the window by this much, then the table's TTL removes it. */
const WINDOW_EXPIRY_GRACE_SECONDS = 60;

/** A token bucket per caller in this process: exact where one process serves the API (local mode). */
function processBuckets(options: RateLimitOptions): Limiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (id, now, cost) => {
    const bucket = buckets.get(id) ?? { tokens: options.burst, at: now };
    bucket.tokens = Math.min(
      options.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * options.ratePerSecond,
    );
    bucket.at = now;
    if (buckets.size > 100_000) buckets.clear();
    buckets.set(id, bucket);
    if (bucket.tokens < cost) return Math.max(1, Math.ceil((cost - bucket.tokens) / options.ratePerSecond));
    bucket.tokens -= cost;
    return undefined;
  };
}

/**
 * Fixed windows of burst ÷ rate seconds counted in the store, each admitting `burst` requests: the bucket's burst at
 * once and its rate on average, whichever process a request reaches. A process that saw a caller's window fill
 * refuses that caller until the window ends without counting again: a flood from one caller then costs no write per
 * request (all of which would go to the same item), and the answer is the one counting would give.
 */
function sharedWindows(options: RateLimitOptions, store: Pick<Store, 'countRequest'>): Limiter {
  const windowMs = Math.max(1, Math.ceil((options.burst / options.ratePerSecond) * 1000));
  const refusedUntil = new Map<string, number>();
  const retryAfter = (end: number, now: number) => Math.max(1, Math.ceil((end - now) / 1000));
  return async (id, now, cost) => {
    const start = now - (now % windowMs);
    const end = start + windowMs;
    if ((refusedUntil.get(id) ?? 0) > now) return retryAfter(end, now);
    const expiresAt = Math.ceil(end / 1000) + WINDOW_EXPIRY_GRACE_SECONDS;
    const count = await store.countRequest(id, start, expiresAt, cost);
    if (count <= options.burst) return undefined;
    if (refusedUntil.size > 100_000) refusedUntil.clear();
    refusedUntil.set(id, end);
    return retryAfter(end, now);
  };
}

/**
 * Limits each caller's request rate: a tenant's, whichever of its keys it uses (it makes its own, so a limit per key
 * would be one it could multiply), or the admin's. Over the limit → 429 rate.limited with Retry-After. A route may
 * charge a request more than one (`chargeRequests`), for what it holds beyond a quick answer.
 */
export function rateLimit(
  options: RateLimitOptions,
  deps: { store: Pick<Store, 'countRequest'>; clock: Clock },
) {
  const limiter = options.shared ? sharedWindows(options, deps.store) : processBuckets(options);
  return createMiddleware<ApiEnv>(async (c, next) => {
    const principal = c.get('principal');
    const id = principal.role === 'admin' ? 'admin' : `tenant:${principal.tenantId}`;
    const charge = async (cost: number) => {
      const retryAfter = await limiter(id, deps.clock.now().getTime(), Math.min(cost, options.burst));
      if (retryAfter !== undefined) throw new RateLimitedError(retryAfter);
    };
    await charge(1);
    c.set('chargeRequests', charge);
    await next();
  });
}
