import { describe, expect, it } from 'vitest';
import { localApi } from '../support/local-api.ts';

describe('leases on DynamoDB Local', () => {
  it('is held by one owner until it expires, and skips an ask that a later taking covers', async () => {
    const { store } = (await localApi()).deps;
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-1', 10_000, 0)).toBe(true);
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-2', 15_000, 5_000)).toBe(false);
    // The holder renews; anyone may take it once it expired.
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-1', 16_000, 6_000)).toBe(true);
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-2', 25_000, 20_000)).toBe(true);

    // Last taken at 20 s: an ask from before then is covered, one from after is not.
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-3', 40_000, 30_000, 19_999)).toBe(
      false,
    );
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-3', 40_000, 30_000, 20_000)).toBe(
      false,
    );
    expect(await store.acquireLease('reconcile-workloads/acme', 'worker-3', 40_000, 30_000, 20_001)).toBe(
      true,
    );
    // Never taken: nothing covers the ask.
    expect(await store.acquireLease('reconcile-workloads/beta', 'worker-3', 40_000, 30_000, 1)).toBe(true);
  });

  it('asks a running holder again, renews without moving when it was taken, and hands back or runs on', async () => {
    const { store } = (await localApi()).deps;
    const name = 'reconcile-workloads/acme';
    expect(await store.askLeaseAgain(name, 0)).toBe(false); // never taken: nobody to ask (and no item made)
    expect(await store.acquireLease(name, 'worker-1', 10_000, 0)).toBe(true);
    expect(await store.askLeaseAgain(name, 5_000, 0)).toBe(false); // the running pass covers an ask from 0
    expect(await store.renewLease(name, 'worker-2', 20_000)).toBe(false);
    expect(await store.renewLease(name, 'worker-1', 20_000)).toBe(true);
    // Still taken at 0, and held past its first 10 s: an ask from 1 ms finds it running.
    expect(await store.askLeaseAgain(name, 15_000, 1)).toBe(true);
    expect(await store.acquireLease(name, 'worker-2', 25_000, 15_000)).toBe(false);

    // Asked again: the holder keeps it for one more pass, taken now, which covers the ask.
    expect(await store.releaseLease(name, 'worker-1', 16_000, 26_000)).toBe(true);
    expect(await store.askLeaseAgain(name, 17_000, 15_000)).toBe(false);
    // Not asked since: freed at once, for anyone.
    expect(await store.releaseLease(name, 'worker-1', 18_000, 28_000)).toBe(false);
    expect(await store.askLeaseAgain(name, 18_000)).toBe(false);
    expect(await store.acquireLease(name, 'worker-2', 28_001, 18_001)).toBe(true);

    // Only the holder hands it back; without a next pass, an ask stays for the next taker (who runs anyway).
    expect(await store.askLeaseAgain(name, 19_000, 18_500)).toBe(true);
    expect(await store.releaseLease(name, 'worker-1', 19_500, 29_500)).toBe(false);
    expect(await store.acquireLease(name, 'worker-3', 30_000, 20_000)).toBe(false);
    expect(await store.releaseLease(name, 'worker-2', 20_000)).toBe(false);
    expect(await store.acquireLease(name, 'worker-3', 30_001, 20_001)).toBe(true);
  });
});
