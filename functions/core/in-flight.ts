/**
 * Writes started beside a request rather than before its answer, awaited only where the process may freeze: a
 * Lambda flushes them before it returns. Each write handles its own failure; `flush()` never throws.
 */
export class InFlight {
  private readonly pending = new Set<Promise<void>>();

  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }

  /** Resolves once everything tracked so far has settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
