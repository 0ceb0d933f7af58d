import { lineTime } from '../../core/log-merge.ts';
import type { LogOptions, Replica, ReplicaFilter } from '../../core/ports.ts';

/** How long a removed replica stays in view, as ECS keeps a stopped task for a while. */
const KEEP_MS = 3_600_000;
/** The most removed replicas kept in view per app, newest first. */
const PER_APP = 5;
/** The last log lines kept of a removed replica. */
export const RETIRED_LOG_LINES = 100;

interface Retired {
  replica: Replica;
  /** Docker's log lines, each starting with its RFC 3339 timestamp. */
  lines: string[];
  at: number;
}

/**
 * The replicas Docker no longer has, kept in view for a while with their last state and log lines: a replica
 * that crashed, or was replaced, still shows why in the app's instances and logs, as stopped tasks do in ECS.
 * Held in memory by the process that removed them, at most PER_APP an app for KEEP_MS.
 */
export class RetiredReplicas {
  private readonly byApp = new Map<string, Retired[]>();

  constructor(private readonly now: () => number = Date.now) {}

  add(replica: Replica, lines: string[]): void {
    const kept = [
      { replica, lines: lines.slice(-RETIRED_LOG_LINES), at: this.now() },
      ...this.of(replica.appUid),
    ];
    this.byApp.set(replica.appUid, kept.slice(0, PER_APP));
  }

  /** The removed replicas still in view that match the filter, newest first. */
  list(filter: ReplicaFilter = {}): Replica[] {
    const apps = filter.appUid ? [filter.appUid] : [...this.byApp.keys()];
    return apps
      .flatMap((appUid) => this.of(appUid))
      .map((r) => r.replica)
      .filter(
        (r) => (!filter.tenantId || r.tenantId === filter.tenantId) && (!filter.app || r.app === filter.app),
      );
  }

  /** The kept log lines of a removed replica (by `tail` and `since`); undefined when it is not one. */
  lines(replica: Replica, options: LogOptions): string[] | undefined {
    const retired = this.of(replica.appUid).find((r) => r.replica.id === replica.id);
    if (!retired) return undefined;
    const since = options.since?.getTime();
    const after =
      since === undefined
        ? retired.lines
        : retired.lines.filter((line) => {
            const time = lineTime(line);
            return time !== undefined && time.ms >= since;
          });
    if (options.tail === undefined) return after;
    return options.tail === 0 ? [] : after.slice(-options.tail);
  }

  /** An app's removed replicas still in view, dropping those kept too long. */
  private of(appUid: string): Retired[] {
    const fresh = (this.byApp.get(appUid) ?? []).filter((r) => this.now() - r.at < KEEP_MS);
    if (fresh.length) this.byApp.set(appUid, fresh);
    else this.byApp.delete(appUid);
    return fresh;
  }
}
