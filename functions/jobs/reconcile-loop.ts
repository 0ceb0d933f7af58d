import type { Store } from '../core/ports.ts';
import { allApps, allTenants } from '../core/walk.ts';
import { FailuresInARow, type RunLogger } from './failures-in-a-row.ts';
import type { Reconciler } from './reconcile.ts';

/** The name the sweeps' failures are counted under: no app's (theirs are `tenant/app`). */
const TICK = 'tick';

export interface ReconcileLoopOptions {
  /** The level-triggered period: every app is looked at this often even if nothing nudged it. */
  tickMs: number;
  /**
   * How soon a busy app (replicas starting, probes pending) is looked at again, and a failed pass first retried:
   * each failure in a row doubles the wait, up to tickMs.
   */
  busyMs: number;
}

/**
 * Runs the reconciler: every app each tick, an app at once when nudged (an API write, a runtime event), again
 * shortly while it is busy, and when one of its replicas is due a health probe (whose interval may be shorter than a
 * tick, or end between two). Passes over one app never overlap; a nudge during a pass runs one more after it.
 * A pass that fails is retried with a backoff (as a Kubernetes controller's work queue does), so an engine or table
 * that is down is not asked again ten times a second for every app, and logged in full only the first time in a row.
 * The tick's sweep is logged the same way.
 */
export class ReconcileLoop {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Failed passes in a row, per app, and failed sweeps (`tick`). */
  private readonly failures: FailuresInARow;
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly reconciler: Pick<Reconciler, 'reconcileApp' | 'removeOrphans' | 'releaseLeases'>,
    private readonly store: Store,
    private readonly logger: RunLogger,
    private readonly options: ReconcileLoopOptions,
  ) {
    this.failures = new FailuresInARow(logger);
  }

  start(): void {
    this.ticker = setInterval(() => void this.tick(), this.options.tickMs);
    void this.tick();
  }

  nudge(tenantId: string, app: string): void {
    if (this.stopped) return;
    const key = `${tenantId}/${app}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (this.inflight.has(key)) {
      this.again.add(key);
      return;
    }
    const pass = this.pass(tenantId, app, key);
    this.inflight.set(key, pass);
  }

  private async pass(tenantId: string, app: string, key: string): Promise<void> {
    let recheckMs: number | undefined;
    try {
      const outcome = await this.reconciler.reconcileApp(tenantId, app);
      this.failures.succeeded(key, 'reconcile works again', { app: key });
      recheckMs = outcome.busy ? this.options.busyMs : outcome.probeInMs;
    } catch (err) {
      const failures = this.failures.failed(key, 'reconcile failed', err, { app: key });
      recheckMs = Math.min(this.options.busyMs * 2 ** (failures - 1), this.options.tickMs);
    } finally {
      this.inflight.delete(key);
    }
    if (this.again.delete(key)) this.nudge(tenantId, app);
    else if (recheckMs !== undefined && !this.stopped) {
      this.timers.set(
        key,
        setTimeout(() => this.nudge(tenantId, app), recheckMs),
      );
    }
  }

  /** Nudges every app and removes orphaned replicas; resolves when the passes it started are done. */
  tick(): Promise<void> {
    this.ticking ??= this.sweep().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async sweep(): Promise<void> {
    try {
      const uids = new Set<string>();
      for await (const tenant of allTenants(this.store)) {
        for await (const app of allApps(this.store, tenant.id)) {
          uids.add(app.uid);
          this.nudge(tenant.id, app.name);
        }
      }
      await this.reconciler.removeOrphans(uids);
      this.failures.succeeded(TICK, 'reconcile ticks work again');
      await this.idle();
    } catch (err) {
      this.failures.failed(TICK, 'reconcile tick failed', err);
    }
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight.values());
  }

  /**
   * Stops after the passes running, then hands the apps' leases back (see `Reconciler.releaseLeases`); leases it
   * cannot hand back (the table is down) just run out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.ticking;
    await this.idle();
    await this.reconciler.releaseLeases().catch((err: unknown) => {
      this.logger.error("could not hand back the apps' leases; they run out on their own", { error: err });
    });
  }
}
