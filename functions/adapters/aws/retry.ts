const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** True for AWS throttling errors, whatever the service calls them. */
function isThrottling(err: unknown): boolean {
  return THROTTLING.has((err as { name?: string }).name ?? '');
}

/**
 * Retries an AWS call on throttling with full-jitter exponential back-off, on top of the SDK's own retries (the
 * control plane's jobs fan out across many apps at once, so a throttled call is normal, not an error).
 */
export async function withThrottlingRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isThrottling(err) || attempt >= attempts) throw err;
      await sleep(Math.random() * base * 2 ** (attempt - 1));
    }
  }
}
