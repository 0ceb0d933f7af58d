import type { Store } from '../../functions/core/ports.ts';

/**
 * Runs `meanwhile` once, just before the store's next call of `method`, which then goes on as it would: what another
 * request, a reconcile pass or an operator does between a change's reads and its write. Should `meanwhile` throw, that
 * call fails with it, as a write that lost a race.
 */
export function beforeNextCall<M extends keyof Store>(
  store: Store,
  method: M,
  meanwhile: () => Promise<unknown>,
) {
  const call = store[method] as (...args: unknown[]) => Promise<unknown>;
  store[method] = (async (...args: unknown[]) => {
    store[method] = call as Store[M];
    await meanwhile();
    return call.apply(store, args);
  }) as Store[M];
}
