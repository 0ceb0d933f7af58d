import { expect, it } from 'vitest';
import { PassLease } from '../../../functions/jobs/pass-lease.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

it('tries twice to take the lease or leave an ask with its holder, then gives up rather than spin', async () => {
  const deps = await fakeCoreDeps();
  const tries: string[] = [];
  const tried = (what: string, answer: () => boolean) => async () => {
    tries.push(what);
    return answer();
  };
  // Each time: the lease is held, and gone by the time the ask is left (the running pass ended in between).
  deps.store.acquireLease = tried('take', () => false);
  deps.store.askLeaseAgain = tried('ask', () => false);
  const lease = new PassLease({ store: deps.store, clock: deps.clock, owner: 'worker-1' }, 'acme', 60_000);
  expect(await lease.take()).toBe(false);
  expect(tries).toEqual(['take', 'ask', 'take', 'ask']);
  // The second try takes it.
  tries.length = 0;
  deps.store.acquireLease = tried('take', () => tries.length > 1);
  expect(await lease.take()).toBe(true);
  expect(tries).toEqual(['take', 'ask', 'take']);
});
