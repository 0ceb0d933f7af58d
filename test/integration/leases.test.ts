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
});
