import { describe, expect, it } from 'vitest';
import { isTransientAwsError } from '../../../functions/adapters/aws/retry.ts';

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
