import { describe, expect, it } from 'vitest';
import type { Replica } from '../../../functions/core/ports.ts';
import { StartFailures } from '../../../functions/jobs/start-failures.ts';

const listed = (id: string, revision: number) => ({ id, revision }) as Replica;
/** A start of `slot` of `revision`, made at the app's `generation` (1 unless told). */
const start = (revision: number, slot: number, generation = 1) => ({ revision, slot, generation });

describe('StartFailures', () => {
  let nowMs = 0;
  const failures = () => new StartFailures(() => nowMs);

  it('counts a replica once however many passes see it, and a start that made no replica each time', () => {
    const tracked = failures();
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    expect(tracked.of('app-1', 1, 0).failures).toBe(1);
    tracked.record('app-1', start(1, 0), 'exited with code 1');
    tracked.record('app-1', start(1, 0), 'exited with code 1');
    expect(tracked.of('app-1', 1, 0).failures).toBe(3);
    expect(tracked.of('app-2', 1, 0).failures).toBe(0);
  });

  it("sums a revision's failed starts made for a deployment or later, across its slots, not those from before it", () => {
    const tracked = failures();
    // Slot 0 started at generation 1 (before a rollback to its revision at generation 3); slot 1 twice after it.
    tracked.record('app-1', start(2, 0, 1), 'exited with code 1', 'r1');
    tracked.record('app-1', start(2, 1, 3), 'exited with code 1', 'r2');
    tracked.record('app-1', start(2, 1, 4), 'exited with code 1');
    tracked.record('app-1', start(3, 0, 4), 'exited with code 1');
    expect(tracked.failedFrom('app-1', 2, 1)).toBe(3);
    expect(tracked.failedFrom('app-1', 2, 3)).toBe(2);
    expect(tracked.failedFrom('app-1', 2, 5)).toBe(0);
    // The back-off goes by every failure of the slot, whenever it started.
    expect(tracked.of('app-1', 2, 0).failures).toBe(1);
    tracked.startOver('app-1', 2, 1);
    expect(tracked.failedFrom('app-1', 2, 1)).toBe(1);
  });

  it('says how the latest failure of a revision failed, whichever slot it was in', () => {
    const tracked = failures();
    nowMs = 1000;
    tracked.record('app-1', start(2, 0), 'exited with code 3', 'r1');
    nowMs = 2000;
    tracked.record('app-1', start(2, 1), 'failed its health checks (GET / on port 8080 answered 503)', 'r2');
    tracked.record('app-1', start(3, 0), 'could not start: pulling x failed');
    expect(tracked.lastFailure('app-1', 2)).toBe(
      'failed its health checks (GET / on port 8080 answered 503)',
    );
    expect(tracked.lastFailure('app-1', 3)).toBe('could not start: pulling x failed');
    expect(tracked.lastFailure('app-1', 4)).toBeUndefined();
  });

  it('keeps of an app only the revisions a pass asks about and the replicas still listed', () => {
    const tracked = failures();
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    tracked.record('app-1', start(2, 0), 'exited with code 1', 'r2');
    tracked.record('app-1', start(3, 0), 'exited with code 1');

    // Revision 1 is neither the target nor run by a listed replica; r1 has been removed.
    tracked.keepOnly('app-1', [listed('r2', 2)], [3]);
    expect(tracked.of('app-1', 1, 0).failures).toBe(0);
    expect(tracked.of('app-1', 2, 0).failures).toBe(1);
    expect(tracked.of('app-1', 3, 0).failures).toBe(1);

    // r2 is still listed, so it is not counted twice; r1 was forgotten, and would count again.
    tracked.record('app-1', start(2, 0), 'exited with code 1', 'r2');
    expect(tracked.of('app-1', 2, 0).failures).toBe(1);
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    expect(tracked.of('app-1', 1, 0).failures).toBe(1);
  });

  it('forgets an app that has nothing left to run, and one that is gone', () => {
    const tracked = failures();
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    tracked.record('app-2', start(1, 0), 'exited with code 1', 'r2');
    tracked.keepOnly('app-1', [], []);
    tracked.forget('app-2');
    expect(tracked.of('app-1', 1, 0).failures).toBe(0);
    expect(tracked.of('app-2', 1, 0).failures).toBe(0);
    tracked.record('app-1', start(1, 0), 'exited with code 1', 'r1');
    expect(tracked.of('app-1', 1, 0).failures).toBe(1);
  });
});
