import { PreconditionFailedError } from './errors.ts';

const MAX_ATTEMPTS = 8;

/**
 * Runs a read-modify-write. With `ifMatch`, a stale version fails at once (412). Without it the write applies to
 * the latest version: a lost race re-reads and tries again, so no update is lost.
 */
export async function withOptimisticRetry<T>(
  ifMatch: number | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof PreconditionFailedError) || ifMatch !== undefined || i >= MAX_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * i));
    }
  }
}

/** Fails with 412 when the client's If-Match names another version than the stored one. */
export function assertVersion(ifMatch: number | undefined, version: number) {
  if (ifMatch !== undefined && ifMatch !== version) throw new PreconditionFailedError();
}
