import { describe, expect, it } from 'vitest';
import type { AppRecord, ReplicaView } from '../../../functions/core/ports.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import {
  deferredNudges,
  deferredPrivateDomains,
  deferredRegistry,
  deferredReplicaView,
  type Nudges,
} from '../../../functions/shared/deferred-ports.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { FakeHosts } from '../../fakes/fake-hosts.ts';
import { ListedReplicas, replica } from '../../fakes/fake-runtime.ts';

/** Counts the loads, failing the first `failures` of them. */
function loader<T>(port: T, failures = 0) {
  const calls = { count: 0 };
  const load = async () => {
    calls.count++;
    if (calls.count <= failures) throw new Error('chunk missing');
    return port;
  };
  return { calls, load };
}

describe('deferred ports', () => {
  it('load the registry at its first call, once, and say how it names things without loading it', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const registry = deps.registry;
    registry.digests.set('acme/web:v1', 'sha256:abc');
    registry.platforms.set('sha256:abc', ['linux/amd64']);
    const { calls, load } = loader(registry);
    const deferred = deferredRegistry(
      { host: registry.host, namespaceOf: (t) => registry.namespaceOf(t) },
      load,
    );

    expect(deferred.host).toBe('127.0.0.1:5000');
    expect(deferred.namespaceOf('acme')).toBe('acme/');
    expect(calls.count).toBe(0);

    await deferred.createRepository('acme', 'web');
    expect(await deferred.imageAt('acme/web', 'v1')).toEqual({
      digest: 'sha256:abc',
      platforms: ['linux/amd64'],
    });
    expect(await deferred.listRepositories('acme')).toMatchObject([{ name: 'web' }]);
    expect(await deferred.listImages('acme', 'web')).toEqual([]);
    expect(await deferred.login('acme')).toMatchObject({ username: 'acme' });
    await deferred.holdImage('acme/web', 'sha256:abc', 'app_1');
    expect([...registry.held]).toEqual(['acme/web@sha256:abc for app_1']);
    await deferred.releaseImages('acme/web', ['sha256:abc'], 'app_1');
    expect([...registry.held]).toEqual([]);
    expect(await deferred.deleteRepository('acme', 'web')).toBe(true);
    expect(calls.count).toBe(1);
  });

  it("resolve hosts at once, and load the network's private domains at the first check, once", async () => {
    const hosts = new FakeHosts();
    hosts.names.set('ghcr.io', ['140.82.112.34']);
    const network = new FakeHosts();
    network.privateDomains.push('corp.example.com');
    const { calls, load } = loader(network, 1);
    const deferred = deferredPrivateDomains(hosts, load);

    expect(await deferred.addressesOf('ghcr.io')).toEqual(['140.82.112.34']);
    expect(calls.count).toBe(0);
    await expect(deferred.privateDomainOf('a.corp.example.com')).rejects.toThrow('chunk missing');
    expect(await deferred.privateDomainOf('a.corp.example.com')).toBe('corp.example.com');
    expect(await deferred.privateDomainOf('ghcr.io')).toBeUndefined();
    expect(calls.count).toBe(2);
  });

  it('load a replica view once for all its parts, and try again after a failed load', async () => {
    const running = replica('acme', 'web', '2026-11-30T00:00:00.000Z');
    const listed = new ListedReplicas();
    listed.replicas = [running];
    const view: ReplicaView = {
      runtime: listed,
      logs: {
        async *replicaLogs(r, options) {
          yield `${r.id} tail=${options.tail}`;
        },
      },
      metrics: {
        // Answers the figures asked for, as CloudWatch's does.
        replicaStats: async (replicas, windowSeconds, figures) => ({
          windowSeconds: windowSeconds ?? 1,
          stats: new Map(
            replicas.map((r) => {
              const all = { cpuPercent: 5, memoryMiB: 40, memoryPercent: 7 };
              return [
                r.id,
                (figures ? Object.fromEntries(figures.map((f) => [f, all[f]])) : all) as typeof all,
              ];
            }),
          ),
        }),
      },
      replicaInsights: async (_app, replicas) =>
        new Map(replicas.map((r) => [r.id, { ready: true, unhealthy: false, restarts: 2 }])),
    };
    const { calls, load } = loader(view, 1);
    const deferred = deferredReplicaView(load);

    await expect(deferred.runtime.listReplicas()).rejects.toThrow('chunk missing');
    expect(await deferred.runtime.listReplicas()).toEqual([running]);
    const lines: string[] = [];
    for await (const line of deferred.logs.replicaLogs(running, { tail: 3 })) lines.push(line);
    expect(lines).toEqual([`${running.id} tail=3`]);
    expect(await deferred.metrics.replicaStats([running], 900)).toEqual({
      windowSeconds: 900,
      stats: new Map([[running.id, { cpuPercent: 5, memoryMiB: 40, memoryPercent: 7 }]]),
    });
    expect((await deferred.metrics.replicaStats([running], undefined, ['cpuPercent'])).stats).toEqual(
      new Map([[running.id, { cpuPercent: 5 }]]),
    );
    expect(await deferred.replicaInsights({} as AppRecord, [running])).toEqual(
      new Map([[running.id, { ready: true, unhealthy: false, restarts: 2 }]]),
    );
    expect(calls.count).toBe(2);
  });

  it('load the reconcile queue at the first nudge only, flush what it sent, and log a nudge whose load failed', async () => {
    const nudged: string[] = [];
    let flushes = 0;
    const queue: Nudges = {
      nudge: (tenantId, runtime) => void nudged.push(`${tenantId}/${runtime}`),
      flush: async () => void flushes++,
    };
    const errors: unknown[] = [];
    const { calls, load } = loader(queue, 1);
    const deferred = deferredNudges(load, {
      error: (message, details) => errors.push({ message, ...details }),
    });

    // A request that changes no app loads nothing, flush included.
    await deferred.flush();
    expect(calls.count).toBe(0);

    deferred.nudge('acme', 'fargate');
    await deferred.flush();
    expect(errors).toEqual([
      {
        message: 'could not nudge the reconciler',
        tenantId: 'acme',
        runtime: 'fargate',
        error: new Error('chunk missing'),
      },
    ]);
    expect(flushes).toBe(0);

    deferred.nudge('acme', 'fargate');
    deferred.nudge('beta', 'eks');
    await deferred.flush();
    expect(nudged).toEqual(['acme/fargate', 'beta/eks']);
    expect(flushes).toBe(1);
    expect(calls.count).toBe(2);
  });
});
