import { UnavailableError, ValidationError } from '../../core/errors.ts';
import { isTransientAwsError } from '../aws/retry.ts';

interface AwsError {
  name: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

/** DynamoDB's own names for failures that pass, beyond what every AWS service shares. */
const TRANSIENT_NAMES = new Set([
  'RequestTimeout',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
]);

/** The SDK or network error under ElectroDB's wrapping (ElectroDB's own codes are numbers), if any. */
function rootCause(err: unknown): AwsError | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as AwsError & { cause?: unknown };
    if (e.$metadata || typeof e.code === 'string' || e.CancellationReasons) return e;
    current = e.cause;
  }
  return undefined;
}

export function isConditionFailure(err: unknown): boolean {
  return rootCause(err)?.name === 'ConditionalCheckFailedException';
}

/** The cancellation code of each transaction item, when a transaction was cancelled. */
export function cancellationCodes(err: unknown): string[] | undefined {
  const cause = rootCause(err);
  if (cause?.name !== 'TransactionCanceledException') return undefined;
  return (cause.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/**
 * Turns infrastructure failures into domain errors: an unreachable or throttling DynamoDB → UnavailableError
 * (503), a cursor ElectroDB cannot read → ValidationError; anything else is rethrown as a bug.
 */
export function translateStoreError(err: unknown): never {
  const cause = rootCause(err);
  const electroCode = (err as { code?: unknown }).code;
  if (electroCode === 5003 || /cursor/i.test((err as Error).message ?? '')) {
    throw new ValidationError('the cursor is not valid; pass back nextCursor exactly as it was returned', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
  const transactionCodes = cancellationCodes(err);
  if (
    isTransientAwsError(cause) ||
    (cause?.name && TRANSIENT_NAMES.has(cause.name)) ||
    transactionCodes?.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError')
  ) {
    throw new UnavailableError('the database is unavailable; retry shortly');
  }
  throw err;
}

/** Runs `fn`, turning infrastructure failures into domain errors. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return translateStoreError(err);
  }
}

/** Runs a conditional write: true when it was written, false when its condition failed. */
export function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  return guarded(async () => {
    try {
      await write();
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  });
}
