import type { HealthCheck } from '../../schemas/app.ts';
import type { HealthProbe, Replica } from '../core/ports.ts';
import type { ReplicaHealth } from '../core/reconcile-plan.ts';

interface Entry {
  successes: number;
  failures: number;
  ready: boolean;
  /** When it last became ready. */
  readyAt: number;
  unhealthy: boolean;
  lastProbeAt: number;
  /** When the last failure was counted: one counts per interval, however often a starting replica is probed. */
  lastFailureAt: number;
  /** Why the last probe failed, in the probe's words. */
  lastFailure?: string;
  probing: boolean;
}

/** How often a replica that is not ready yet is probed, so a deploy goes live as soon as it answers. */
const STARTUP_PROBE_MS = 100;

/** A replica is probed once it runs and can be reached. */
const probeable = (replica: Replica): replica is Replica & { endpoint: NonNullable<Replica['endpoint']> } =>
  replica.state === 'running' && Boolean(replica.endpoint);

/** The time from one probe of a replica to its next: its check's interval once it is ready, quickly before. */
const intervalOf = (entry: Entry, check: HealthCheck) =>
  entry.ready ? check.intervalSeconds * 1000 : STARTUP_PROBE_MS;

/**
 * Remembers probe results per replica, by app (in memory: after a restart replicas are simply probed again). A pass
 * over one app forgets only that app's replicas that are gone: the counts of every other app's live on. Probes start
 * only once the runtime reports a replica running; failures inside the grace period do not count, and after it one
 * counts per interval, as a load balancer's health check counts them: a replica that never answers is unhealthy
 * after `unhealthyThreshold` failures an interval apart, the first at the end of its grace period, though it is
 * probed far more often so that it takes traffic as soon as it answers.
 */
export class HealthTracker {
  /** Entries by app uid, then replica id. */
  private readonly apps = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly probe: HealthProbe,
    private readonly now: () => number,
  ) {}

  /** Whether a replica has served healthily for at least `ms` (then its failure is not part of a crash loop). */
  wasStableFor(replica: Replica, ms: number): boolean {
    const entry = this.entryOf(replica);
    return entry?.ready === true && this.now() - entry.readyAt >= ms;
  }

  health(replica: Replica): ReplicaHealth {
    const entry = this.entryOf(replica);
    return { ready: entry?.ready ?? false, unhealthy: entry?.unhealthy ?? false };
  }

  /** Why the replica's last probe failed, if its last probe did. */
  lastFailure(replica: Replica): string | undefined {
    return this.entryOf(replica)?.lastFailure;
  }

  /** Lets go of a deleted app's replicas: no pass over it comes again to forget them. */
  forget(appUid: string): void {
    this.apps.delete(appUid);
  }

  private entryOf(replica: Replica): Entry | undefined {
    return this.apps.get(replica.appUid)?.get(replica.id);
  }

  /**
   * Probes the running replicas of the app `appUid` that are due, in parallel, each by `checkOf` it (its revision's
   * check); `replicas` are all it has, and those of its replicas it had before that are not among them are forgotten
   * (all of them once it has none). Returns how long until the next probe of one of them falls due (none while no
   * replica is to be probed), so that the app is looked at again then: each replica is probed at its own interval,
   * however far apart the passes the loop makes of its own accord.
   */
  async probeDue(
    appUid: string,
    replicas: Replica[],
    checkOf: (replica: Replica) => HealthCheck,
  ): Promise<number | undefined> {
    const entries = this.apps.get(appUid) ?? new Map<string, Entry>();
    const live = new Set(replicas.map((r) => r.id));
    for (const id of entries.keys()) if (!live.has(id)) entries.delete(id);
    if (replicas.length === 0) this.apps.delete(appUid);
    else this.apps.set(appUid, entries);
    const probed = replicas.filter(probeable);
    await Promise.all(probed.map((replica) => this.probeIfDue(entries, replica, checkOf(replica))));
    const dueIn = probed.flatMap((replica) => {
      const entry = entries.get(replica.id);
      if (!entry || entry.unhealthy) return [];
      return [entry.lastProbeAt + intervalOf(entry, checkOf(replica)) - this.now()];
    });
    return dueIn.length ? Math.max(0, Math.min(...dueIn)) : undefined;
  }

  private async probeIfDue(
    entries: Map<string, Entry>,
    replica: Replica & { endpoint: NonNullable<Replica['endpoint']> },
    check: HealthCheck,
  ): Promise<void> {
    const entry = entries.get(replica.id) ?? {
      successes: 0,
      failures: 0,
      ready: false,
      readyAt: 0,
      unhealthy: false,
      lastProbeAt: 0,
      lastFailureAt: 0,
      probing: false,
    };
    entries.set(replica.id, entry);
    if (entry.probing || entry.unhealthy || this.now() - entry.lastProbeAt < intervalOf(entry, check)) return;
    entry.probing = true;
    try {
      const answer = await this.probe.probe(replica.endpoint, {
        ...(check.path ? { path: check.path } : {}),
        timeoutSeconds: check.timeoutSeconds,
      });
      entry.lastProbeAt = this.now();
      if (answer.ok) {
        entry.lastFailure = undefined;
        entry.successes += 1;
        entry.failures = 0;
        if (entry.successes >= check.healthyThreshold && !entry.ready) {
          entry.ready = true;
          entry.readyAt = entry.lastProbeAt;
        }
        return;
      }
      entry.successes = 0;
      entry.lastFailure = answer.why;
      const startedAt = replica.startedAt ? Date.parse(replica.startedAt) : entry.lastProbeAt;
      const inGrace = !entry.ready && entry.lastProbeAt < startedAt + check.gracePeriodSeconds * 1000;
      if (inGrace) return;
      if (entry.failures > 0 && entry.lastProbeAt - entry.lastFailureAt < check.intervalSeconds * 1000)
        return;
      entry.failures += 1;
      entry.lastFailureAt = entry.lastProbeAt;
      if (entry.failures >= check.unhealthyThreshold) {
        entry.ready = false;
        entry.unhealthy = true;
      }
    } finally {
      entry.probing = false;
    }
  }
}
