import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import type { QueueMessage } from '../../../functions/jobs/dispatch.ts';
import {
  askedAt,
  type ReconcileRouterDeps,
  routeReconcile,
} from '../../../functions/jobs/reconcile-router.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { eksWorld } from '../../support/eks-world.ts';

type Api = Awaited<ReturnType<typeof startFakeKubeApi>>;

const APP = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 } as const;

describe('routeReconcile', () => {
  let api: Api;
  let world: Awaited<ReturnType<typeof eksWorld>>;
  let fargatePasses: string[];
  let router: ReconcileRouterDeps;

  beforeEach(async () => {
    api = await startFakeKubeApi();
    world = await eksWorld(api);
    const deps = { ...world.deps, runtimes: ['fargate', 'eks'] as const };
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    await createApp(deps, 'acme', { ...APP, name: 'tasks', runtime: 'fargate' });
    await createApp(deps, 'acme', { ...APP, name: 'pods', runtime: 'eks' });
    await createApp(deps, 'acme', { ...APP, name: 'more-pods', runtime: 'eks' });
    fargatePasses = [];
    const recorded = async (tenantId: string) => {
      fargatePasses.push(tenantId);
      return { apps: 0, applied: 0, released: 0, notStarting: 0 };
    };
    const sweep = async () => {
      fargatePasses.push('sweep');
      return { tenantHomes: 0, orphans: [] };
    };
    router = { workloads: { eks: world.reconciler, fargate: { reconcileTenant: recorded, sweep } } };
  });
  afterEach(async () => api.close());

  /** The Deployments a message's pass applied. */
  const route = async (message: QueueMessage, sentAt?: number) => {
    const before = api.requests.length;
    await routeReconcile(router, message, sentAt);
    // The lease of a tenant pass is free again at the next tick.
    world.deps.clock.advance(11_000);
    return api.requests
      .slice(before)
      .filter((r) => r.method === 'PATCH' && r.path.includes('/deployments/'))
      .map((r) => r.path.split('?')[0]);
  };

  it("turns a tenant's runtime message into one pass over all its apps on that runtime", async () => {
    expect(await route({ tenantId: 'acme', runtime: 'eks' })).toEqual([
      '/apis/apps/v1/namespaces/berth-acme/deployments/more-pods',
      '/apis/apps/v1/namespaces/berth-acme/deployments/pods',
    ]);
    expect(fargatePasses).toEqual([]);
    expect(await route({ tenantId: 'acme', runtime: 'fargate' })).toEqual([]);
    expect(fargatePasses).toEqual(['acme']);
  });

  it("turns a sweep message into its runtime's sweep", async () => {
    await route({ sweep: 'fargate' });
    expect(fargatePasses).toEqual(['sweep']);
    await route({ tenantId: 'acme', runtime: 'eks' });
    await world.runtime.ensureTenant('gone', { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 });
    expect(await routeReconcile(router, { sweep: 'eks' })).toEqual({
      swept: { tenantHomes: 1, orphans: [] },
    });
    expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/api/v1/namespaces/berth-gone',
    ]);
  });

  it('fails a message for a runtime this worker does not run (so it is retried, then dead-lettered)', async () => {
    router.workloads = {};
    await expect(routeReconcile(router, { tenantId: 'acme', runtime: 'eks' })).rejects.toThrow(
      'does not reconcile apps on the eks runtime',
    );
  });

  it('skips a message a pass that began after it was sent covers: a backed-up queue costs a pass per tenant', async () => {
    const sent = world.deps.clock.now().getTime();
    const eks = { tenantId: 'acme', runtime: 'eks' } as const;
    expect(await route(eks, sent)).toHaveLength(2);
    // Sent before that pass began: covered.
    const before = api.requests.length;
    expect(await route(eks, sent)).toEqual([]);
    expect(await route(eks, sent - 1)).toEqual([]);
    expect(api.requests.length).toBe(before);
    // Sent after it began: a pass (the spec is unchanged, so it applies nothing, but it looks).
    await route(eks, sent + 1);
    expect(api.requests.length).toBeGreaterThan(before);
  });

  it('takes a message as asked at its send time on first delivery, and always runs a retry', () => {
    expect(askedAt({ ApproximateReceiveCount: '1', SentTimestamp: '1796000000000' })).toBe(1796000000000);
    expect(askedAt({ ApproximateReceiveCount: '2', SentTimestamp: '1796000000000' })).toBeUndefined();
  });
});
