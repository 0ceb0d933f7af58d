import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

/** A tenant's app, and reconcilers of it by owner, noting which of them routed it, pass by pass. */
async function appWithReconcilers() {
  const { deps, runtime, reconcilerOf: over } = await scriptedWorld();
  await createApp(deps, 'acme', WEB);
  const routedBy: string[] = [];
  const reconcilerOf = (owner: string) =>
    over(owner, { route: async () => void routedBy.push(owner), remove: async () => {} });
  return { deps, runtime, routedBy, reconcilerOf };
}

describe("an app's reconcile lease", () => {
  it('is handed back by a reconciler that stops, so the one after it takes the app at once', async () => {
    const { deps, runtime, routedBy, reconcilerOf } = await appWithReconcilers();
    const first = reconcilerOf('first');
    const next = reconcilerOf('next');

    await first.reconcileApp('acme', 'web');
    deps.clock.advance(1000);
    // The lease is the first's for seconds more: the next reconciler leaves the app alone, and has nothing of it to
    // look at again before its next tick — nor of an app that is not there.
    expect(await next.reconcileApp('acme', 'web')).toEqual({ busy: false });
    expect(await next.reconcileApp('acme', 'gone')).toEqual({ busy: false });
    expect(routedBy).toEqual(['first']);

    await first.releaseLeases();
    await next.reconcileApp('acme', 'web');
    expect(routedBy).toEqual(['first', 'next']);
    // Handed back once: the first, passing again, now finds the app the next one's.
    deps.clock.advance(1000);
    await first.reconcileApp('acme', 'web');
    expect(routedBy).toEqual(['first', 'next']);
    expect(runtime.startsOf(1)).toBe(1);
  });

  it('is not counted on once handed back, even within the second its reconciler took it', async () => {
    const { deps, routedBy, reconcilerOf } = await appWithReconcilers();
    const first = reconcilerOf('first');
    const next = reconcilerOf('next');
    await first.reconcileApp('acme', 'web');
    await first.releaseLeases();
    await next.reconcileApp('acme', 'web');
    deps.clock.advance(500);
    await first.reconcileApp('acme', 'web');
    expect(routedBy).toEqual(['first', 'next']);
  });

  it("is kept by its reconciler's passes, written at most once a second of them: none starts with less than 9 s of it", async () => {
    const { deps, routedBy, reconcilerOf } = await appWithReconcilers();
    const start = deps.clock.now().getTime();
    const leaseWrites = vi.spyOn(deps.store, 'acquireLease');
    const first = reconcilerOf('first');
    const next = reconcilerOf('next');
    for (let ms = 0; ms < 25_000; ms += 500) {
      // Two passes in a millisecond (a busy pass and a tick's) write it once.
      await first.reconcileApp('acme', 'web');
      await first.reconcileApp('acme', 'web');
      if (ms % 5000 === 0) await next.reconcileApp('acme', 'web');
      deps.clock.advance(500);
    }
    const writtenAt = leaseWrites.mock.calls.flatMap(([, owner, , nowMs]) =>
      owner === 'first' ? [nowMs - start] : [],
    );
    expect(writtenAt).toEqual(Array.from({ length: 25 }, (_, i) => i * 1000));
    // Long past the first lease's 10 s, the app is the first's still.
    expect(routedBy).not.toContain('next');
  });

  it('is taken at once by a reconciler of the same owner — the installation started again after it was killed', async () => {
    const { deps, routedBy, reconcilerOf } = await appWithReconcilers();
    await reconcilerOf('host:berth').reconcileApp('acme', 'web');
    deps.clock.advance(1000);
    await reconcilerOf('host:berth').reconcileApp('acme', 'web');
    expect(routedBy).toEqual(['host:berth', 'host:berth']);
  });
});
