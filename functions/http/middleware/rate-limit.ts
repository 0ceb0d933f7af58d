import { createMiddleware } from 'hono/factory';
import { DomainError } from '../../core/errors.ts';
import type { ApiEnv } from '../context.ts';

export interface RateLimitOptions {
  /** Sustained requests per second per key. */
  ratePerSecond: number;
  /** Requests a key may send at once after a quiet spell. */
  burst: number;
}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate.limited', `too many requests for this key; retry after ${retryAfterSeconds} s`);
  }
}

/**
 * A token bucket per API key, in this process (each Lambda instance or local server holds its own buckets).
 * Over the limit → 429 rate.limited with Retry-After.
 */
export function rateLimit(options: RateLimitOptions, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return createMiddleware<ApiEnv>(async (c, next) => {
    const principal = c.get('principal');
    const id = principal.role === 'admin' ? 'admin' : principal.keyId;
    const t = now();
    const bucket = buckets.get(id) ?? { tokens: options.burst, at: t };
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.ratePerSecond);
    bucket.at = t;
    if (bucket.tokens < 1) {
      buckets.set(id, bucket);
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / options.ratePerSecond));
      throw new RateLimitedError(retryAfter);
    }
    bucket.tokens -= 1;
    if (buckets.size > 100_000) buckets.clear();
    buckets.set(id, bucket);
    await next();
  });
}
