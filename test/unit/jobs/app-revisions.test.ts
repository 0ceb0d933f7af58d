import { describe, expect, it } from 'vitest';
import type { AppRecord, Replica, RevisionRecord } from '../../../functions/core/ports.ts';
import { AppRevisions } from '../../../functions/jobs/app-revisions.ts';

const app = (targetRevision: number) =>
  ({ tenantId: 'acme', name: 'web', uid: 'uid-1', targetRevision }) as AppRecord;
const runs = (...revisions: number[]) => revisions.map((revision) => ({ revision }) as Replica);

/** A table of revisions 1–9 of one app, counting the reads. */
function table() {
  const reads: number[] = [];
  const revisions = new AppRevisions({
    getRevision: async (_tenant, _uid, n) => {
      reads.push(n);
      return n < 10 ? ({ number: n } as RevisionRecord) : undefined;
    },
  });
  return { revisions, reads };
}

describe('AppRevisions', () => {
  it('reads the target and each revision replicas run once, then answers from what it read', async () => {
    const { revisions, reads } = table();
    expect(await revisions.of(app(2))).toEqual({ number: 2 });
    const running = await revisions.ofReplicas(app(2), runs(1, 2, 1));
    expect([...running.keys()]).toEqual([1, 2]);
    await revisions.of(app(2));
    await revisions.ofReplicas(app(2), runs(1, 2));
    expect(reads).toEqual([2, 1]);
  });

  it('keeps the four revisions an app used last, and reads one again once let go', async () => {
    const { revisions, reads } = table();
    for (const n of [1, 2, 3, 4, 5]) await revisions.of(app(n));
    await revisions.ofReplicas(app(5), runs(2, 3, 4, 5));
    expect(reads).toEqual([1, 2, 3, 4, 5]);
    await revisions.of(app(1));
    expect(reads).toEqual([1, 2, 3, 4, 5, 1]);
  });

  it('leaves out a revision the table no longer has, and throws for a missing target', async () => {
    const { revisions } = table();
    expect([...(await revisions.ofReplicas(app(1), runs(12, 1))).keys()]).toEqual([1]);
    await expect(revisions.of(app(11))).rejects.toThrow('app acme/web targets revision 11, which is missing');
  });

  it('reads everything again for an app it forgot', async () => {
    const { revisions, reads } = table();
    await revisions.of(app(1));
    revisions.forget('uid-1');
    await revisions.of(app(1));
    expect(reads).toEqual([1, 1]);
  });
});
