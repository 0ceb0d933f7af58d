/** Where a loop that runs the same work again and again says how it goes. */
export interface RunLogger {
  error(message: string, details: Record<string, unknown>): void;
  info(message: string, details: Record<string, unknown>): void;
}

/** An error's message, and its causes' after it: what a repeated failure's log line says of it. */
function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause === undefined ? err.message : `${err.message}; cause: ${messageOf(err.cause)}`;
}

/**
 * Counts the failures in a row of work that runs again and again (a job, an app's passes), by name, and logs them so
 * that a failure that lasts — the table or the engine down for a while — does not fill the log with the same stack
 * at every retry: the first with its error in full (stack and causes), the next ones in one line (their count and
 * the messages), and one line once the work goes through again.
 */
export class FailuresInARow {
  private readonly counts = new Map<string, number>();

  constructor(private readonly logger: RunLogger) {}

  /** Logs a failure of `name` as `message`; returns how many in a row `name` has had, this one counted. */
  failed(name: string, message: string, err: unknown, details: Record<string, unknown> = {}): number {
    const failures = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, failures);
    this.logger.error(message, { ...details, failures, error: failures === 1 ? err : messageOf(err) });
    return failures;
  }

  /** Notes that `name` went through; logs `message` with how many failures it had before, if it had any. */
  succeeded(name: string, message: string, details: Record<string, unknown> = {}): void {
    const failures = this.counts.get(name);
    if (failures === undefined) return;
    this.counts.delete(name);
    this.logger.info(message, { ...details, after: failures });
  }
}
