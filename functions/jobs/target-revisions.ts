import type { AppRecord, RevisionRecord, Store } from '../core/ports.ts';

/** Apps whose revision is kept before the cache starts again: one revision each, a few KB. */
const APPS_KEPT = 10_000;

/**
 * Each app's target revision, read from the table once rather than at every pass. A revision never changes once
 * written (it is put only where none is), and an app's uid is its own, never reused, so the copy read for one
 * `(uid, number)` stays true; a new target is read afresh.
 */
export class TargetRevisions {
  private readonly byApp = new Map<string, RevisionRecord>();

  constructor(private readonly store: Pick<Store, 'getRevision'>) {}

  /** The revision `app` targets; throws when the table has none, which no write leaves. */
  async of(app: AppRecord): Promise<RevisionRecord> {
    const kept = this.byApp.get(app.uid);
    if (kept?.number === app.targetRevision) return kept;
    const revision = await this.store.getRevision(app.tenantId, app.uid, app.targetRevision);
    if (!revision)
      throw new Error(
        `app ${app.tenantId}/${app.name} targets revision ${app.targetRevision}, which is missing`,
      );
    if (!kept && this.byApp.size >= APPS_KEPT) this.byApp.clear();
    this.byApp.set(app.uid, revision);
    return revision;
  }

  /** Lets go of a deleted app's revision. */
  forget(appUid: string): void {
    this.byApp.delete(appUid);
  }
}
