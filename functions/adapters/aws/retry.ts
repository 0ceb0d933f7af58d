import { UnavailableError } from '../../core/errors.ts';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  // Route 53: a change to a zone while another to it is still being applied (workers write apps' records at once).
  'PriorRequestNotComplete',
  // DynamoDB: a transaction retried with its ClientRequestToken while the first try is still being applied.
  'TransactionInProgressException',
]);

/** A service's own name for a request it gave up on before answering (S3's, and others'). */
const TIMED_OUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Node's codes for a connection that could not be made or was lost, the SDK's list: a name lookup that failed for the
 * moment (EAI_AGAIN) or a network not reachable yet (ENETUNREACH, as a Lambda in a VPC may see at first) included.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What an AWS SDK error carries that tells a passing failure from a wrong request. */
export interface AwsErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** True for an AWS SDK error of one of `names`, the service's own error names (`PriorityInUseException`, …). */
export const isAwsError = (err: unknown, ...names: string[]): boolean =>
  names.includes((err as AwsErrorShape | undefined)?.name ?? '');

/** True for AWS throttling errors, whatever the service calls them. */
function isThrottling(err: unknown): boolean {
  return isAwsError(err, ...THROTTLING);
}

/** True for an AWS failure that passes: throttling, the service's own 5xx, a timeout or the network. */
export function isTransientAwsError(err: AwsErrorShape | undefined): boolean {
  return (
    !!err &&
    (isThrottling(err) ||
      TIMED_OUT.has(err.name ?? '') ||
      (err.$metadata?.httpStatusCode ?? 0) >= 500 ||
      NETWORK_CODES.has(err.code ?? ''))
  );
}

/**
 * Runs `call`, and again while it fails with what `retryable` accepts and attempts are left, after a full-jitter
 * exponential back-off: a random wait up to `baseDelayMs` doubled per attempt, at most `maxDelayMs`. The last
 * failure is thrown as it is.
 */
export async function retrying<T>(
  call: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  options: RetryOptions & { attempts: number; baseDelayMs: number; maxDelayMs?: number },
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= options.attempts || !retryable(err)) throw err;
      const ceiling = Math.min(
        options.maxDelayMs ?? Number.POSITIVE_INFINITY,
        options.baseDelayMs * 2 ** (attempt - 1),
      );
      await sleep(Math.random() * ceiling);
    }
  }
}

/** How a dependency's failures are met: which are worth another try, which pass, and what a 503 says of it. */
export interface FailureKinds {
  retryable: (err: unknown) => boolean;
  passing: (err: unknown) => boolean;
  unavailable: string;
}

/**
 * Runs a call to a dependency, and again while it fails as `kinds.retryable` says, with full-jitter back-off (5
 * tries from 200 ms, unless `options` say otherwise). A failure that still passes becomes an UnavailableError (503)
 * with the failure as its cause; any other is thrown as it is.
 */
export async function withRetryThenUnavailable<T>(
  call: () => Promise<T>,
  kinds: FailureKinds,
  options: RetryOptions = {},
): Promise<T> {
  try {
    return await retrying(call, kinds.retryable, {
      ...options,
      attempts: options.attempts ?? 5,
      baseDelayMs: options.baseDelayMs ?? 200,
    });
  } catch (err) {
    if (!kinds.passing(err)) throw err;
    throw new UnavailableError(kinds.unavailable, { cause: err });
  }
}

const AWS_FAILURES: FailureKinds = {
  retryable: isThrottling,
  passing: (err) => isTransientAwsError(err as AwsErrorShape),
  unavailable: 'an AWS service Berth uses is busy or unavailable; retry shortly',
};

/**
 * Retries an AWS call on throttling with full-jitter exponential back-off, on top of the SDK's own retries (the
 * control plane's jobs fan out across many apps at once, so a throttled call is normal, not an error). A failure
 * that still passes (throttled throughout, the service's 5xx, the network) becomes an UnavailableError: 503.
 */
export const withThrottlingRetry = <T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> =>
  withRetryThenUnavailable(call, AWS_FAILURES, options);
