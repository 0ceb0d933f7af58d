import { DomainError } from '../core/errors.ts';

/** Logs one tenant may follow at once through one API process. */
export const FOLLOWS_PER_TENANT = 10;

/**
 * Each tenant's followed logs in this process. A follow holds a stream from the runtime for each of the app's
 * replicas for as long as its client reads, which the rate limit, counting requests, does not bound: where one
 * process serves every tenant (local mode), this keeps a tenant from holding that process's streams and sockets.
 * Behind API Gateway a process serves one request at a time, and each follow pays for its wait (chargeWait).
 */
export class FollowLimit {
  private readonly open = new Map<string, number>();

  constructor(private readonly max = FOLLOWS_PER_TENANT) {}

  /**
   * Takes one of the tenant's follows, 429 rate.limited when it holds `max` already; returns what gives it back
   * (once, however often it is called).
   */
  take(tenantId: string): () => void {
    const held = this.open.get(tenantId) ?? 0;
    if (held >= this.max) {
      throw new DomainError(
        'rate.limited',
        `${this.max} logs of this tenant are followed already, the most at once; end one of them first`,
      );
    }
    this.open.set(tenantId, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(tenantId) ?? 1) - 1;
      if (left > 0) this.open.set(tenantId, left);
      else this.open.delete(tenantId);
    };
  }
}
