import { PreconditionFailedError, WriteConflictError } from './errors.ts';

const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 100;

/** The versions a client's If-Match accepts; undefined when it sent none, or `*` (any version). */
export type IfMatch = readonly number[] | undefined;

/**
 * Runs a read-modify-write whose write is conditional on what it read. A write that loses a race (WriteConflictError)
 * reads again and tries again (jittered exponential back-off), so no update is lost and none is written over what
 * it did not see; `attempt` checks a client's If-Match against each read (assertVersion), so a version that moved
 * fails at once with 412, while a write by the platform that keeps the version (a reconcile pass's observation) or a
 * plan edited meanwhile does not. Only under contention that outlasts every attempt does it give up with 409.
 */
export async function withOptimisticRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof WriteConflictError) || i >= MAX_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** i)));
    }
  }
}

/** Fails with 412 when the client's If-Match names none but other versions than the stored one. */
export function assertVersion(ifMatch: IfMatch, version: number) {
  if (ifMatch !== undefined && !ifMatch.includes(version)) throw new PreconditionFailedError();
}
