import { ConflictError, PreconditionFailedError } from './errors.ts';

const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 100;

/** The versions a client's If-Match accepts; undefined when it sent none, or `*` (any version). */
export type IfMatch = readonly number[] | undefined;

/**
 * Runs a read-modify-write. With `ifMatch`, a stale version fails at once (412). Without it the write applies to
 * the latest version: a lost race re-reads and tries again (jittered exponential back-off), so no update is lost;
 * only under contention that outlasts every attempt does it give up with 409 conflict.
 */
export async function withOptimisticRetry<T>(ifMatch: IfMatch, attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof PreconditionFailedError) || ifMatch !== undefined) throw err;
      if (i >= MAX_ATTEMPTS) {
        throw new ConflictError(
          'conflict',
          'the resource is being changed by many requests at once; retry shortly',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** i)));
    }
  }
}

/** Fails with 412 when the client's If-Match names none but other versions than the stored one. */
export function assertVersion(ifMatch: IfMatch, version: number) {
  if (ifMatch !== undefined && !ifMatch.includes(version)) throw new PreconditionFailedError();
}
