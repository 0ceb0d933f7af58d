import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobTimer } from '../../../functions/local/job-timer.ts';

const PERIOD_MS = 1000;

/**
 * A timer over a job whose runs take `runMs` and answer `outcomes` in turn (the last one from then on), noting when
 * each began and ended, and what the timer logged.
 */
function timerOver(outcomes: ('fails' | 'done')[], runMs = 0) {
  const began: number[] = [];
  const ended: number[] = [];
  const logged: { message: string; details: Record<string, unknown> }[] = [];
  const job = async () => {
    began.push(Date.now());
    if (runMs) await new Promise((resolve) => setTimeout(resolve, runMs));
    ended.push(Date.now());
    if (outcomes[Math.min(began.length, outcomes.length) - 1] === 'fails')
      throw new Error('engine unavailable');
  };
  const timer = new JobTimer('images', job, PERIOD_MS, {
    error: (message, details) => logged.push({ message, details }),
    info: (message, details) => logged.push({ message, details }),
  });
  return { timer, began, ended, logged };
}

describe('a local job on its timer, as EventBridge Scheduler runs it on AWS', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once, then a period after each run ends, never two at once', async () => {
    const { timer, began, ended } = timerOver(['done'], 1500);
    timer.start();
    await vi.advanceTimersByTimeAsync(6000);
    // Each run takes longer than the period: the next waits for it, then a period more.
    expect(began).toEqual([0, 2500, 5000]);
    expect(ended).toEqual([1500, 4000]);
    // The third run is under way: the stop waits for it.
    await Promise.all([timer.stop(), vi.advanceTimersByTimeAsync(1500)]);
    expect(ended).toEqual([1500, 4000, 6500]);
  });

  it('logs a failed run under its name and runs again at the next period', async () => {
    const { timer, began, logged } = timerOver(['fails', 'done']);
    timer.start();
    await vi.advanceTimersByTimeAsync(2500);
    expect(began).toEqual([0, 1000, 2000]);
    expect(logged).toEqual([
      { message: 'images failed', details: { failures: 1, error: new Error('engine unavailable') } },
      { message: 'images works again', details: { after: 1 } },
    ]);
    await timer.stop();
  });

  it('logs the first failure in a row in full, the next ones in one line with their count and causes', async () => {
    const { timer, logged } = timerOver(['fails', 'fails', 'fails', 'done']);
    timer.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(logged).toEqual([
      { message: 'images failed', details: { failures: 1, error: new Error('engine unavailable') } },
      { message: 'images failed', details: { failures: 2, error: 'engine unavailable' } },
      { message: 'images failed', details: { failures: 3, error: 'engine unavailable' } },
      { message: 'images works again', details: { after: 3 } },
    ]);
    await timer.stop();
  });

  it('stops: waits for the run in progress, and starts none after it', async () => {
    const { timer, began, ended } = timerOver(['done'], 500);
    timer.start();
    await vi.advanceTimersByTimeAsync(100);
    let stopped = false;
    const stopping = timer.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(400);
    await stopping;
    expect(ended).toEqual([500]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(began).toEqual([0]);
  });

  it('starts again after a stop, at once', async () => {
    const { timer, began } = timerOver(['done']);
    timer.start();
    await vi.advanceTimersByTimeAsync(1500);
    await timer.stop();
    timer.start();
    await vi.advanceTimersByTimeAsync(1500);
    expect(began).toEqual([0, 1000, 1500, 2500]);
    await timer.stop();
  });
});
