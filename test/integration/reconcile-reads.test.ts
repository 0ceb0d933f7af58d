import { describe, expect, it, vi } from 'vitest';
import { localApiOnDocker, sampleApp } from '../support/local-api.ts';

/** Watches a pass's reads: each waits a moment before it goes, so reads started together are seen in flight together. */
function watchReads(
  store: Awaited<ReturnType<typeof localApiOnDocker>>['deps']['store'],
  runtime: Awaited<ReturnType<typeof localApiOnDocker>>['runtime']['runtime'],
) {
  const inFlight = new Set<string>();
  /** The names in flight as each read went. */
  const together: string[][] = [];
  const watched =
    <A extends unknown[], R>(name: string, read: (...args: A) => Promise<R>) =>
    async (...args: A) => {
      inFlight.add(name);
      together.push([...inFlight].sort());
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return await read(...args);
      } finally {
        inFlight.delete(name);
      }
    };
  store.acquireLease = watched('acquireLease', store.acquireLease.bind(store));
  store.getApp = watched('getApp', store.getApp.bind(store));
  store.getTenant = watched('getTenant', store.getTenant.bind(store));
  store.listDeployments = watched('listDeployments', store.listDeployments.bind(store));
  store.getRevision = watched('getRevision', store.getRevision.bind(store));
  runtime.listReplicas = watched('listReplicas', runtime.listReplicas.bind(runtime));
  return together;
}

/** A tenant with an app of no replicas, which the loop has passed over once. */
async function appAtRest() {
  const local = await localApiOnDocker();
  const key = (await local.createTenant('acme')).key;
  expect((await local.call('POST', '/v1/apps', key, sampleApp('web', { replicas: 0 }))).status).toBe(201);
  await local.runtime.loop.idle();
  return { ...local, key };
}

const APPS_OWN = ['listDeployments', 'getRevision', 'listReplicas'];

/** Moves the platform's clock on by `ms`, as if that long had passed. */
function advanceClock(deps: { clock: { now(): Date } }, ms: number) {
  const now = deps.clock.now.bind(deps.clock);
  deps.clock.now = () => new Date(now().getTime() + ms);
}

describe('a reconcile pass on DynamoDB Local and Docker Engine', () => {
  it('takes the lease beside reading the app and its tenant, then reads all of the app’s own at once', async () => {
    const { deps, runtime } = await appAtRest();
    // The loop's own pass took the lease moments ago: let it come due again.
    advanceClock(deps, 2_000);
    const together = watchReads(deps.store, runtime.runtime);

    await runtime.reconciler.reconcileApp('acme', 'web');
    expect(together).toContainEqual(['acquireLease', 'getApp', 'getTenant']);
    // The revision it targets the loop's own pass read already: it is not read again.
    expect(together).toContainEqual(['listDeployments', 'listReplicas']);
    // Nothing of the app's own goes before the app is known and the lease taken.
    expect(
      together.filter(
        (names) =>
          (names.includes('getApp') || names.includes('acquireLease')) &&
          names.some((n) => APPS_OWN.includes(n)),
      ),
    ).toEqual([]);
  });

  it('stops there when another reconciler holds the lease', async () => {
    const { deps, runtime } = await appAtRest();
    // Taken once the loop's own lease (10 s) ran out, for a minute from then.
    const laterMs = Date.now() + 11_000;
    expect(await deps.store.acquireLease('reconcile/acme/web', 'another', laterMs + 60_000, laterMs)).toBe(
      true,
    );
    advanceClock(deps, 12_000);
    const together = watchReads(deps.store, runtime.runtime);

    expect(await runtime.reconciler.reconcileApp('acme', 'web')).toEqual({ busy: false });
    expect(together.flat().filter((name) => APPS_OWN.includes(name))).toEqual([]);
    // Refused, it counts on nothing: the next pass asks the table again, and stops again.
    const takings = vi.spyOn(deps.store, 'acquireLease');
    expect(await runtime.reconciler.reconcileApp('acme', 'web')).toEqual({ busy: false });
    expect(takings).toHaveBeenCalledTimes(1);
  });

  it('counts on a lease it took moments ago rather than taking it again, and takes it again a second on', async () => {
    const { deps, runtime } = await appAtRest();
    advanceClock(deps, 2_000);
    const takings = vi.spyOn(deps.store, 'acquireLease');
    const deploymentReads = vi.spyOn(deps.store, 'listDeployments');

    await runtime.reconciler.reconcileApp('acme', 'web');
    await runtime.reconciler.reconcileApp('acme', 'web');
    expect(takings).toHaveBeenCalledTimes(1);
    // A pass counting on it reads the app's own all the same.
    expect(deploymentReads).toHaveBeenCalledTimes(2);
    advanceClock(deps, 1_000);
    await runtime.reconciler.reconcileApp('acme', 'web');
    expect(takings).toHaveBeenCalledTimes(2);
  });

  it('reads the revision an app targets once, and the next one once, when a deploy targets it', async () => {
    const { deps, runtime, call, key } = await appAtRest();
    const reads = vi.spyOn(deps.store, 'getRevision');
    advanceClock(deps, 2_000);
    await runtime.reconciler.reconcileApp('acme', 'web');
    // The loop's own pass read it already.
    expect(reads).not.toHaveBeenCalled();
    expect((await call('PATCH', '/v1/apps/web', key, { env: { V: '2' } })).status).toBe(200);
    await runtime.loop.idle();
    advanceClock(deps, 2_000);
    await runtime.reconciler.reconcileApp('acme', 'web');
    await runtime.reconciler.reconcileApp('acme', 'web');
    expect(reads.mock.calls).toEqual([['acme', expect.any(String), 2]]);
  });
});
