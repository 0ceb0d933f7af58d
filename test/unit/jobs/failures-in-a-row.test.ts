import { describe, expect, it } from 'vitest';
import { FailuresInARow } from '../../../functions/jobs/failures-in-a-row.ts';

/** A FailuresInARow over a logger noting each line as [level, message, details]. */
function logged() {
  const lines: [string, string, Record<string, unknown>][] = [];
  const failures = new FailuresInARow({
    error: (message, details) => lines.push(['error', message, details]),
    info: (message, details) => lines.push(['info', message, details]),
  });
  return { failures, lines };
}

describe('failures in a row', () => {
  it('gives a repeated failure in one line, its causes after its message; each name counts on its own', () => {
    const { failures, lines } = logged();
    const down = new Error('the database is unavailable', {
      cause: new Error('DynamoDB did not answer', { cause: 'ECONNREFUSED' }),
    });
    expect(failures.failed('acme/web', 'reconcile failed', down, { app: 'acme/web' })).toBe(1);
    expect(failures.failed('acme/web', 'reconcile failed', down, { app: 'acme/web' })).toBe(2);
    expect(failures.failed('acme/api', 'reconcile failed', 'not an Error', { app: 'acme/api' })).toBe(1);
    expect(failures.failed('acme/api', 'reconcile failed', 'not an Error', { app: 'acme/api' })).toBe(2);
    failures.succeeded('acme/web', 'reconcile works again', { app: 'acme/web' });
    failures.succeeded('acme/web', 'reconcile works again', { app: 'acme/web' });
    expect(lines).toEqual([
      ['error', 'reconcile failed', { app: 'acme/web', failures: 1, error: down }],
      [
        'error',
        'reconcile failed',
        {
          app: 'acme/web',
          failures: 2,
          error: 'the database is unavailable; cause: DynamoDB did not answer; cause: ECONNREFUSED',
        },
      ],
      ['error', 'reconcile failed', { app: 'acme/api', failures: 1, error: 'not an Error' }],
      ['error', 'reconcile failed', { app: 'acme/api', failures: 2, error: 'not an Error' }],
      // Once, after the failures; a success after a success says nothing.
      ['info', 'reconcile works again', { app: 'acme/web', after: 2 }],
    ]);
    expect(failures.failed('acme/web', 'reconcile failed', down)).toBe(1);
    expect(failures.failed('acme/api', 'reconcile failed', down)).toBe(3);
  });
});
