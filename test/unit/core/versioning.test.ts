import { afterEach, describe, expect, it, vi } from 'vitest';
import { WriteConflictError } from '../../../functions/core/errors.ts';
import { withOptimisticRetry } from '../../../functions/core/versioning.ts';

describe('a write retried after a lost race', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** Runs `attempt` under withOptimisticRetry for `ms` of fake time: how many attempts it made, and how it ended. */
  async function retriedFor(ms: number, attempt: (n: number) => Promise<string>) {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999); // the longest back-off each time
    let attempts = 0;
    let outcome: { value: string } | { error: unknown } | undefined;
    withOptimisticRetry(() => attempt(++attempts)).then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    await vi.advanceTimersByTimeAsync(ms);
    return { attempts, outcome };
  }

  it('reads and writes again until the write goes through', async () => {
    const lost = async (n: number) => {
      if (n < 3) throw new WriteConflictError();
      return 'written';
    };
    expect(await retriedFor(1000, lost)).toEqual({ attempts: 3, outcome: { value: 'written' } });
  });

  it('gives up (409 conflict) after 30 attempts, each back-off at most 100 ms, so a request ends within seconds', async () => {
    const { attempts, outcome } = await retriedFor(29 * 100, async () => {
      throw new WriteConflictError();
    });
    expect(attempts).toBe(30);
    expect(outcome).toEqual({ error: expect.any(WriteConflictError) });
  });

  it('tries nothing again that failed for another reason', async () => {
    const refused = new Error('the table is not there');
    const { attempts, outcome } = await retriedFor(1000, async () => {
      throw refused;
    });
    expect({ attempts, outcome }).toEqual({ attempts: 1, outcome: { error: refused } });
  });
});
