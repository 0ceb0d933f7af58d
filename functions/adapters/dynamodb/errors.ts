import { UnavailableError } from '../../core/errors.ts';
import { isTransientAwsError } from '../aws/retry.ts';

interface AwsError {
  name: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

/** DynamoDB's error (dynamodb-http.ts), when `err` is one: its name, status, code or cancellation reasons. */
function awsError(err: unknown): AwsError | undefined {
  const e = err as AwsError | undefined;
  return e && (e.$metadata || typeof e.code === 'string' || e.CancellationReasons) ? e : undefined;
}

function isConditionFailure(err: unknown): boolean {
  return awsError(err)?.name === 'ConditionalCheckFailedException';
}

/** The cancellation code of each transaction item, when a transaction was cancelled. */
export function cancellationCodes(err: unknown): string[] | undefined {
  const cause = awsError(err);
  if (cause?.name !== 'TransactionCanceledException') return undefined;
  return (cause.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/**
 * Turns infrastructure failures into domain errors: an unreachable or throttling DynamoDB → UnavailableError (503);
 * anything else (domain errors included) is rethrown as it is.
 */
export function translateStoreError(err: unknown): never {
  const cause = awsError(err);
  const transactionCodes = cancellationCodes(err);
  if (
    isTransientAwsError(cause) ||
    transactionCodes?.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError')
  ) {
    throw new UnavailableError('the database is unavailable; retry shortly', { cause: err });
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
