import { describe, expect, it } from 'vitest';
import { RetiredReplicas } from '../../../functions/adapters/docker/retired-replicas.ts';
import { exitedReplica } from '../../support/exited-replica.ts';

const replica = (id: string, appUid = 'app_1', tenantId = 'acme') => exitedReplica({ id, appUid, tenantId });

describe('RetiredReplicas', () => {
  it('keeps the newest five an app for an hour, each app apart', () => {
    let now = 0;
    const retired = new RetiredReplicas(() => now);
    for (let i = 1; i <= 7; i++) retired.add(replica(`r${i}`), []);
    retired.add(replica('other', 'app_2', 'beta'), []);
    expect(retired.list({ appUid: 'app_1' }).map((r) => r.id)).toEqual(['r7', 'r6', 'r5', 'r4', 'r3']);
    expect(retired.list({ tenantId: 'beta' }).map((r) => r.id)).toEqual(['other']);
    now = 3_599_999;
    expect(retired.list()).toHaveLength(6);
    now = 3_600_000;
    expect(retired.list()).toEqual([]);
  });

  it('answers its kept lines by tail and since, and nothing for a replica it does not keep', () => {
    const retired = new RetiredReplicas();
    const kept = replica('r1');
    const lines = [
      '2026-11-30T10:00:01.000000000Z starting',
      '2026-11-30T10:00:02.000000000Z connecting',
      '2026-11-30T10:00:03.000000000Z cannot reach the database',
    ];
    retired.add(kept, [...Array.from({ length: 150 }, (_, i) => `2026-11-30T09:00:00.${i}Z old`), ...lines]);
    expect(retired.lines(kept, {})).toHaveLength(100);
    expect(retired.lines(kept, { tail: 2 })).toEqual(lines.slice(1));
    expect(retired.lines(kept, { tail: 0 })).toEqual([]);
    expect(retired.lines(kept, { since: new Date('2026-11-30T10:00:02.000Z') })).toEqual(lines.slice(1));
    expect(retired.lines(replica('r2'), {})).toBeUndefined();
  });
});
