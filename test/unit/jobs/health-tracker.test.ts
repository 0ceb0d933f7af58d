import { describe, expect, it } from 'vitest';
import type { Replica } from '../../../functions/core/ports.ts';
import { HealthTracker } from '../../../functions/jobs/health-tracker.ts';
import type { HealthCheck } from '../../../schemas/app.ts';

const check: HealthCheck = {
  path: '/healthz',
  intervalSeconds: 10,
  timeoutSeconds: 2,
  healthyThreshold: 1,
  unhealthyThreshold: 3,
  gracePeriodSeconds: 10,
};

const replica = {
  id: 'r1',
  appUid: 'app-1',
  state: 'running',
  startedAt: new Date(0).toISOString(),
  endpoint: { host: '127.0.0.1', port: 8080 },
} as Replica;

/** Another app's replica, on another port. */
const other = {
  ...replica,
  id: 'r2',
  appUid: 'app-2',
  endpoint: { host: '127.0.0.1', port: 8081 },
} as Replica;

/** A replica of the same app's next revision, on another port. */
const ofNextRevision = {
  ...replica,
  id: 'r3',
  revision: 2,
  endpoint: { host: '127.0.0.1', port: 8082 },
} as Replica;

/**
 * A tracker over a probe that answers `answers()` for `replica` (and always for others), probed every 100 ms of a
 * manual clock (a busy reconcile loop); with `otherApp`, a pass over another app's replica runs between those.
 */
function tracked(answers: (nowMs: number) => boolean, { otherApp = false } = {}) {
  let nowMs = 0;
  const tracker = new HealthTracker(
    {
      probe: async (endpoint) =>
        endpoint.port !== replica.endpoint?.port || answers(nowMs)
          ? { ok: true }
          : { ok: false, why: `GET /healthz answered 503 at ${nowMs} ms` },
    },
    () => nowMs,
  );
  /** Probes until `untilMs`; returns when the replica was first seen unhealthy, if it was. */
  const run = async (untilMs: number) => {
    for (; nowMs <= untilMs; nowMs += 100) {
      await tracker.probeDue(replica.appUid, [replica], () => check);
      if (otherApp) await tracker.probeDue(other.appUid, [other], () => check);
      if (tracker.health(replica).unhealthy) return nowMs;
    }
    return undefined;
  };
  return { tracker, run };
}

describe('HealthTracker', () => {
  it('replaces a replica that never answers after unhealthyThreshold intervals, not the first probes past its grace', async () => {
    const { tracker, run } = tracked(() => false);
    expect(await run(9_900)).toBeUndefined();
    expect(tracker.health(replica)).toEqual({ ready: false, unhealthy: false });
    // Failures at 10 s, 20 s and 30 s: the third makes it unhealthy, and why the last failed is kept.
    expect(await run(60_000)).toBe(30_000);
    expect(tracker.lastFailure(replica)).toBe('GET /healthz answered 503 at 30000 ms');
  });

  it("keeps a replica's counts while other apps are probed between its passes, and forgets them once it is gone", async () => {
    const { tracker, run } = tracked(() => false, { otherApp: true });
    expect(await run(60_000)).toBe(30_000);
    expect(tracker.health(other)).toEqual({ ready: true, unhealthy: false });
    await tracker.probeDue(replica.appUid, [], () => check);
    expect(tracker.health(replica)).toEqual({ ready: false, unhealthy: false });
    expect(tracker.health(other)).toEqual({ ready: true, unhealthy: false });
  });

  it('lets a starting replica take traffic on its first good answer, long before an interval', async () => {
    const { tracker, run } = tracked((nowMs) => nowMs >= 1_300);
    await run(1_200);
    expect(tracker.health(replica).ready).toBe(false);
    expect(tracker.lastFailure(replica)).toBe('GET /healthz answered 503 at 1200 ms');
    await run(1_300);
    expect(tracker.health(replica)).toEqual({ ready: true, unhealthy: false });
    expect(tracker.lastFailure(replica)).toBeUndefined();
  });

  it('gives a replica that answers late, past its grace, the rest of its failures', async () => {
    const { tracker, run } = tracked((nowMs) => nowMs >= 25_000);
    expect(await run(60_000)).toBeUndefined();
    expect(tracker.health(replica)).toEqual({ ready: true, unhealthy: false });
  });

  it('probes a ready replica every interval and replaces it after unhealthyThreshold failures in a row', async () => {
    const { tracker, run } = tracked((nowMs) => nowMs < 100_000);
    expect(await run(99_900)).toBeUndefined();
    expect(tracker.health(replica).ready).toBe(true);
    // Probed at 0.1 s, then every 10 s: the first failing probe is at 100.1 s, the third at 120.1 s.
    expect(await run(200_000)).toBe(120_100);
  });

  it("says when the app's next probe falls due: soon while a replica starts, then at the soonest interval's end", async () => {
    let nowMs = 1_000;
    const quick = ofNextRevision;
    const tracker = new HealthTracker(
      {
        probe: async (endpoint) =>
          endpoint.port === quick.endpoint?.port && nowMs < 5_300 ? { ok: false, why: '503' } : { ok: true },
      },
      () => nowMs,
    );
    const checkOf = (r: Replica) => (r.revision === 2 ? { ...check, intervalSeconds: 2 } : check);
    expect(await tracker.probeDue(replica.appUid, [replica], checkOf)).toBe(10_000);
    nowMs = 5_000;
    expect(await tracker.probeDue(replica.appUid, [replica], checkOf)).toBe(6_000);
    nowMs = 5_100;
    expect(await tracker.probeDue(replica.appUid, [replica, quick], checkOf)).toBe(100);
    nowMs = 5_300;
    expect(await tracker.probeDue(replica.appUid, [replica, quick], checkOf)).toBe(2_000);
    // Nothing to probe: no replica running, or none but one found unhealthy (it is replaced, not probed again).
    expect(
      await tracker.probeDue(replica.appUid, [{ ...replica, state: 'exited' }], checkOf),
    ).toBeUndefined();
    const { tracker: failing, run } = tracked(() => false);
    await run(60_000);
    expect(await failing.probeDue(replica.appUid, [replica], () => check)).toBeUndefined();
  });

  it('counts a replica stable from its first good answer, however many follow, and one never ready never', async () => {
    const { tracker, run } = tracked(() => true);
    await run(25_000); // ready at 0.1 s, probed again at 10.1 s and 20.1 s; it is 25.1 s
    expect(tracker.wasStableFor(replica, 25_000)).toBe(true);
    expect(tracker.wasStableFor(replica, 25_001)).toBe(false);
    const { tracker: never, run: runNever } = tracked(() => false);
    await runNever(25_000);
    expect(never.wasStableFor(replica, 1)).toBe(false);
  });

  it('probes a replica once while its probe runs, however many passes overlap it, and not once it is unhealthy', async () => {
    const answers: ((answer: { ok: false; why: string }) => void)[] = [];
    let nowMs = 20_000;
    const tracker = new HealthTracker(
      { probe: () => new Promise((resolve) => answers.push(resolve)) },
      () => nowMs,
    );
    const oneCheck = { ...check, unhealthyThreshold: 1 };
    const passes = [1, 2, 3].map(() => tracker.probeDue(replica.appUid, [replica], () => oneCheck));
    expect(answers).toHaveLength(1);
    answers[0]?.({ ok: false, why: 'answered 503' });
    await Promise.all(passes);
    expect(tracker.health(replica)).toEqual({ ready: false, unhealthy: true });
    nowMs += 60_000;
    await tracker.probeDue(replica.appUid, [replica], () => oneCheck);
    expect(answers).toHaveLength(1);
  });

  it("probes each replica by its own check: a new revision's failing check leaves the replica it replaces serving", async () => {
    let nowMs = 0;
    const paths: string[] = [];
    const tracker = new HealthTracker(
      {
        probe: async (_endpoint, options) => {
          paths.push(options.path ?? '/');
          return options.path === '/healthz' ? { ok: true } : { ok: false, why: 'answered 404' };
        },
      },
      () => nowMs,
    );
    const serving = { ...replica, revision: 1 } as Replica;
    const replacing = ofNextRevision;
    const checks = new Map([
      [1, check],
      [2, { ...check, path: '/nope' }],
    ]);
    for (; nowMs <= 60_000; nowMs += 100) {
      await tracker.probeDue(replica.appUid, [serving, replacing], (r) => checks.get(r.revision) ?? check);
    }
    expect(tracker.health(serving)).toEqual({ ready: true, unhealthy: false });
    expect(tracker.health(replacing)).toEqual({ ready: false, unhealthy: true });
    expect(new Set(paths)).toEqual(new Set(['/healthz', '/nope']));
  });
});
