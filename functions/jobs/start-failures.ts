import type { Replica } from '../core/ports.ts';
import type { SlotHistory } from '../core/reconcile-plan.ts';

/**
 * A slot's failures, how the last of them failed (in the words of its app event), and the app's generation at each
 * failed start (the last MAX_STARTS_KEPT), so that a deployment counts only the starts made for it.
 */
interface SlotFailures extends SlotHistory {
  why: string;
  generations: number[];
}

/** The most failed starts of one slot a deployment's circuit breaker can ask about (its threshold's bound). */
const MAX_STARTS_KEPT = 200;

/** What is remembered of one app: each slot's failures by revision and slot, and the replicas already counted. */
interface AppFailures {
  slots: Map<string, SlotFailures>;
  counted: Set<string>;
}

const NONE: SlotHistory = { failures: 0, lastFailureAt: 0 };

/**
 * Failed starts of each slot of an app's revisions, for the back-off, the crash-loop event and a deployment's
 * circuit breaker. A cache like HealthTracker's: losing it (a restart) only starts the counts over. Each pass over an
 * app keeps only what that app can still ask about, so what a long-running platform remembers stays the size of
 * what its apps run, however often they fail.
 */
export class StartFailures {
  private readonly apps = new Map<string, AppFailures>();

  constructor(private readonly nowMs: () => number) {}

  private slotKey(revision: number, slot: number) {
    return `${revision}/${slot}`;
  }

  /** The failures of one slot of one of the app's revisions. */
  of(appUid: string, revision: number, slot: number): SlotHistory {
    return this.apps.get(appUid)?.slots.get(this.slotKey(revision, slot)) ?? NONE;
  }

  /**
   * Counts a failed start of the slot, made at the app's `generation`, which failed as `why` says (`exited with code
   * 3`): once per replica, however many passes see it before it is removed, or, for a start that made no replica
   * (`replicaId` absent), once per call.
   */
  record(
    appUid: string,
    { revision, slot, generation }: Pick<Replica, 'revision' | 'slot' | 'generation'>,
    why: string,
    replicaId?: string,
  ): SlotHistory {
    const app = this.apps.get(appUid) ?? { slots: new Map(), counted: new Set() };
    this.apps.set(appUid, app);
    const key = this.slotKey(revision, slot);
    const history = app.slots.get(key);
    if (replicaId !== undefined) {
      if (app.counted.has(replicaId)) return history ?? NONE;
      app.counted.add(replicaId);
    }
    const next = {
      failures: (history?.failures ?? 0) + 1,
      lastFailureAt: this.nowMs(),
      why,
      generations: [...(history?.generations ?? []), generation].slice(-MAX_STARTS_KEPT),
    };
    app.slots.set(key, next);
    return next;
  }

  /** Starts the slot's count over: its replica served a while before it failed, so it is not crash-looping. */
  startOver(appUid: string, revision: number, slot: number): void {
    this.apps.get(appUid)?.slots.delete(this.slotKey(revision, slot));
  }

  /** The failures of each slot of the app's revision that are remembered. */
  private slotsOf(appUid: string, revision: number): SlotFailures[] {
    const slots = [...(this.apps.get(appUid)?.slots ?? [])];
    return slots.flatMap(([key, history]) => (key.startsWith(`${revision}/`) ? [history] : []));
  }

  /**
   * How many starts of the app's revision made at `generation` or later (a deployment's: `generationOf`) failed: not
   * those of replicas that ran before it, which a deployment to a revision already running (a rollback to the live
   * one) finds, and whose crash is no failed start of its own.
   */
  failedFrom(appUid: string, revision: number, generation: number): number {
    return this.slotsOf(appUid, revision).reduce(
      (total, history) => total + history.generations.filter((g) => g >= generation).length,
      0,
    );
  }

  /** How the latest failure of the app's revision failed, if one of its slots failed and is still remembered. */
  lastFailure(appUid: string, revision: number): string | undefined {
    let last: SlotFailures | undefined;
    for (const history of this.slotsOf(appUid, revision)) {
      if (history.lastFailureAt >= (last?.lastFailureAt ?? 0)) last = history;
    }
    return last?.why;
  }

  /**
   * Keeps of the app only what a pass can still ask about: the slots of `revisions` (its target, its latest
   * deployment's) and of the revisions its `replicas` run, and, of the replicas counted, those still listed (one
   * removed is never seen again). An app with nothing left to remember, a deleted one among them, leaves nothing.
   */
  keepOnly(appUid: string, replicas: Replica[], revisions: number[]): void {
    const app = this.apps.get(appUid);
    if (!app) return;
    const kept = new Set([...revisions, ...replicas.map((r) => r.revision)]);
    for (const key of app.slots.keys()) {
      if (!kept.has(Number(key.split('/')[0]))) app.slots.delete(key);
    }
    const listed = new Set(replicas.map((r) => r.id));
    for (const id of app.counted) if (!listed.has(id)) app.counted.delete(id);
    if (app.slots.size === 0 && app.counted.size === 0) this.apps.delete(appUid);
  }

  /** Forgets the app: it is gone. */
  forget(appUid: string): void {
    this.apps.delete(appUid);
  }
}
