/**
 * Runs a job every `periodMs` in local mode, as EventBridge Scheduler does in AWS: never two runs at once, a failed
 * run logged and retried at the next period.
 */
export class JobTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly job: () => Promise<unknown>,
    private readonly periodMs: number,
    private readonly logger: { error(message: string, details: Record<string, unknown>): void },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.job()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error(`${this.name} failed`, { error: err }))
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
