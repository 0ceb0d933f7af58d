import type { OwnedProcess } from './owned-children.ts';

export interface KeepRunningOptions {
  /** The wait before starting it again; doubled while that fails, up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  log: (line: string) => void;
}

const DEFAULT_OPTIONS: KeepRunningOptions = {
  retryMs: 1000,
  maxRetryMs: 30_000,
  log: (line) => console.error(`[berth] ${line}`),
};

/**
 * Keeps something the platform runs up — its own processes (DynamoDB Local, the registry), the watch on Docker's
 * events: started with `start`, and started again the same way whenever it ends on its own (a crash, the kernel's OOM
 * killer, an engine restart), after `retryMs`, doubled while starting fails. Without it the platform would answer
 * 503 for good. `first` is what the first start answered; `stop()` ends it, and the watch.
 */
export async function keepRunning<Started extends OwnedProcess>(
  name: string,
  start: () => Promise<Started>,
  options: KeepRunningOptions = DEFAULT_OPTIONS,
): Promise<{ first: Started; stop(): Promise<void> }> {
  const first = await start();
  let current: OwnedProcess = first;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;

  const watch = (owned: OwnedProcess) => {
    void owned.exited.then((how) => {
      if (stopped || owned !== current) return;
      options.log(`${name} ${how}; starting it again`);
      startAgain(options.retryMs);
    });
  };
  const startAgain = (waitMs: number) => {
    retry = setTimeout(() => {
      starting = start().then(
        async (owned) => {
          if (stopped) return owned.stop();
          current = owned;
          watch(owned);
          options.log(`${name} is running again`);
        },
        (err: unknown) => {
          if (stopped) return;
          const next = Math.min(waitMs * 2, options.maxRetryMs);
          options.log(
            `${name} could not start (${err instanceof Error ? err.message : err}); next try in ${next} ms`,
          );
          startAgain(next);
        },
      );
    }, waitMs);
  };

  watch(current);
  return {
    first,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await starting;
      await current.stop();
    },
  };
}
