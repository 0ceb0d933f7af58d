import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepRunning } from '../../../functions/local/keep-running.ts';
import type { OwnedProcess } from '../../../functions/local/owned-children.ts';

/** Processes the test ends by hand; starts fail while `failing` says so. */
function processes() {
  const started: (OwnedProcess & { exit(): void; stopped: boolean })[] = [];
  const startedAt: number[] = [];
  const state = { failing: false };
  const start = async () => {
    startedAt.push(Date.now());
    if (state.failing) throw new Error('port 8000 is already in use');
    let exit = () => {};
    const exited = new Promise<string>((resolve) => {
      exit = () => resolve('exited with code 1');
    });
    const owned = {
      exited,
      exit,
      stopped: false,
      async stop() {
        owned.stopped = true;
        exit();
      },
    };
    started.push(owned);
    return owned;
  };
  return { start, started, startedAt, state };
}

describe('keeping one of the platform’s own processes running', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts it again when it exits on its own, waiting longer while starting fails, and says so', async () => {
    const { start, started, startedAt, state } = processes();
    const log: string[] = [];
    const kept = await keepRunning('the registry', start, {
      retryMs: 1000,
      maxRetryMs: 4000,
      log: (l) => log.push(l),
    });

    state.failing = true;
    started[0]?.exit();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000);
    state.failing = false;
    await vi.advanceTimersByTimeAsync(4000);
    const first = startedAt[0] ?? 0;
    expect(startedAt.map((at) => at - first)).toEqual([0, 1000, 3000, 7000, 11_000]);
    expect(started).toHaveLength(2);
    expect(log).toEqual([
      'the registry exited with code 1; starting it again',
      'the registry could not start (port 8000 is already in use); next try in 2000 ms',
      'the registry could not start (port 8000 is already in use); next try in 4000 ms',
      'the registry could not start (port 8000 is already in use); next try in 4000 ms',
      'the registry is running again',
    ]);

    // Again after a restart, too.
    started[1]?.exit();
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toHaveLength(3);

    await kept.stop();
    expect(started[2]?.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(started).toHaveLength(3);
  });

  it('stops what a start still under way brings up, when stopped meanwhile', async () => {
    const { start, started } = processes();
    let release = () => {};
    const slowStart = async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return start();
    };
    let starts = 0;
    const kept = await keepRunning('DynamoDB Local', () => (starts++ === 0 ? start() : slowStart()), {
      retryMs: 10,
      maxRetryMs: 10,
      log: () => {},
    });
    started[0]?.exit();
    await vi.advanceTimersByTimeAsync(10);
    const stopping = kept.stop();
    release();
    await stopping;
    expect(started).toHaveLength(2);
    expect(started[1]?.stopped).toBe(true);
  });
});
