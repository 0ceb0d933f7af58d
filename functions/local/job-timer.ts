import { FailuresInARow, type RunLogger } from '../jobs/failures-in-a-row.ts';

/**
 * Runs a job every `periodMs` in local mode, as EventBridge Scheduler does in AWS: never two runs at once, a failed
 * run logged (in full the first time in a row) and retried at the next period.
 */
export class JobTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly failures: FailuresInARow;

  constructor(
    private readonly name: string,
    private readonly job: () => Promise<unknown>,
    private readonly periodMs: number,
    logger: RunLogger,
  ) {
    this.failures = new FailuresInARow(logger);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.job()
        .then(() => this.failures.succeeded(this.name, `${this.name} works again`))
        .catch((err: unknown) => void this.failures.failed(this.name, `${this.name} failed`, err))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.periodMs);
        });
    }, delayMs);
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
