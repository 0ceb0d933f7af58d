import type { AppRecord, Replica, RevisionRecord, Store } from '../core/ports.ts';

/** Apps whose revisions are kept before the cache starts again. */
const APPS_KEPT = 10_000;
/** Revisions kept an app, the latest used: its target and those its replicas run mid-rollout, a few KB each. */
const REVISIONS_KEPT = 4;

/**
 * The revisions an app targets and runs, each read from the table once rather than at every pass. A revision never
 * changes once written (it is put only where none is), and an app's uid is its own, never reused, so the copy read
 * for one `(uid, number)` stays true.
 */
export class AppRevisions {
  private readonly byApp = new Map<string, Map<number, RevisionRecord>>();

  constructor(private readonly store: Pick<Store, 'getRevision'>) {}

  /** The revision `app` targets; throws when the table has none, which no write leaves. */
  async of(app: AppRecord): Promise<RevisionRecord> {
    const revision = await this.read(app, app.targetRevision);
    if (!revision)
      throw new Error(
        `app ${app.tenantId}/${app.name} targets revision ${app.targetRevision}, which is missing`,
      );
    this.keep(app, revision);
    return revision;
  }

  /**
   * The revisions `replicas` of `app` run, by number: during a rollout, the ones it replaces besides its target. One
   * the table no longer has (the app's deletion racing the pass) is left out.
   */
  async ofReplicas(app: AppRecord, replicas: Replica[]): Promise<Map<number, RevisionRecord>> {
    const numbers = [...new Set(replicas.map((r) => r.revision))];
    const read = await Promise.all(numbers.map((n) => this.read(app, n)));
    const running = new Map(read.flatMap((r) => (r ? [[r.number, r] as const] : [])));
    for (const revision of running.values()) this.keep(app, revision);
    return running;
  }

  /** Lets go of a deleted app's revisions. */
  forget(appUid: string): void {
    this.byApp.delete(appUid);
  }

  private read(app: AppRecord, n: number): Promise<RevisionRecord | undefined> {
    const kept = this.byApp.get(app.uid)?.get(n);
    return kept ? Promise.resolve(kept) : this.store.getRevision(app.tenantId, app.uid, n);
  }

  /** Keeps `revision` as the app's latest used, letting go of the one used longest ago past REVISIONS_KEPT. */
  private keep(app: AppRecord, revision: RevisionRecord): void {
    let kept = this.byApp.get(app.uid);
    if (!kept) {
      if (this.byApp.size >= APPS_KEPT) this.byApp.clear();
      kept = new Map();
      this.byApp.set(app.uid, kept);
    }
    kept.delete(revision.number);
    kept.set(revision.number, revision);
    const [oldest] = kept.keys();
    if (kept.size > REVISIONS_KEPT && oldest !== undefined) kept.delete(oldest);
  }
}
