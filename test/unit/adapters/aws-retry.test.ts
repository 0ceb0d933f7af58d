import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTransientAwsError, retrying } from '../../../functions/adapters/aws/retry.ts';

describe('isTransientAwsError', () => {
  it.each([
    ['throttling', { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }],
    ['a transaction still in progress', { name: 'TransactionInProgressException' }],
    [
      'a request the service timed out',
      { name: 'RequestTimeoutException', $metadata: { httpStatusCode: 408 } },
    ],
    ["the service's 5xx", { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }],
    ['a lost connection', { code: 'ECONNRESET' }],
    ['a name lookup failed for the moment', { code: 'EAI_AGAIN' }],
    ['a network not reachable yet', { code: 'ENETUNREACH' }],
  ])('takes %s for a failure that passes', (_what, err) => {
    expect(isTransientAwsError(err)).toBe(true);
  });

  it.each([
    ['a failed condition', { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } }],
    ['a cancelled transaction', { name: 'TransactionCanceledException', $metadata: { httpStatusCode: 400 } }],
    ['a wrong request', { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }],
    ['a refusal of access', { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }],
  ])('takes %s for one that does not', (_what, err) => {
    expect(isTransientAwsError(err)).toBe(false);
  });
});

describe('retrying', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A call that fails with `failures` in turn, then answers `done`; and what it was asked and waited. */
  function failingFirst(...failures: Error[]) {
    const waited: number[] = [];
    let calls = 0;
    const call = async () => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return 'done';
    };
    const sleep = async (ms: number) => {
      waited.push(ms);
    };
    return { call, sleep, waited, calls: () => calls };
  }
  const passing = (n: number) => Object.assign(new Error(`passing ${n}`), { passes: true });
  const passes = (err: unknown) => (err as { passes?: boolean }).passes === true;

  it('tries as often as asked, waiting a random part of a ceiling that doubles from the base to the most, and throws the last failure', async () => {
    // Half of each ceiling: 100, 200, 400, then the most, 600.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const failing = failingFirst(...[1, 2, 3, 4, 5, 6].map(passing));
    const options = { attempts: 5, baseDelayMs: 100, maxDelayMs: 600, sleep: failing.sleep };
    await expect(retrying(failing.call, passes, options)).rejects.toThrow('passing 5');
    expect({ calls: failing.calls(), waited: failing.waited }).toEqual({
      calls: 5,
      waited: [50, 100, 200, 300],
    });
  });

  it('answers what a later try answers, and throws at once a failure that does not pass', async () => {
    const recovering = failingFirst(passing(1), passing(2));
    const options = { attempts: 3, baseDelayMs: 10, sleep: recovering.sleep };
    expect(await retrying(recovering.call, passes, options)).toBe('done');
    expect(recovering.calls()).toBe(3);

    const refused = failingFirst(new Error('wrong request'), passing(2));
    await expect(retrying(refused.call, passes, { ...options, sleep: refused.sleep })).rejects.toThrow(
      'wrong request',
    );
    expect({ calls: refused.calls(), waited: refused.waited }).toEqual({ calls: 1, waited: [] });
  });
});
