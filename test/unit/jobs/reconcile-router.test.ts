import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import type { QueueMessage } from '../../../functions/jobs/dispatch.ts';
import {
  askedAt,
  type ReconcileRouterDeps,
  routeReconcile,
  routeReconciles,
} from '../../../functions/jobs/reconcile-router.ts';
import type { SweepResult, WorkloadPass } from '../../../functions/jobs/workload-reconcile.ts';
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

describe('routeReconciles', () => {
  /** A Fargate reconciler that answers each pass and sweep as the test says, and records what it was asked. */
  const fargate = (passes: Partial<WorkloadPass>[], sweeps: SweepResult[]) => {
    const asked: unknown[] = [];
    const reconciler = {
      reconcileTenant: async (tenantId: string, sentAt?: number) => {
        asked.push({ tenantId, sentAt });
        return { apps: 1, applied: 0, released: 0, notStarting: 0, ...passes.shift() };
      },
      sweep: async () => {
        asked.push('sweep');
        const result = sweeps.shift();
        if (!result) throw new Error('the runtime did not answer');
        return result;
      },
    };
    return { asked, router: { workloads: { fargate: reconciler } } };
  };
  /** A message as SQS delivers it on its first delivery, sent at 1000 ms. */
  const delivered = (messageId: string, message: unknown) => ({
    messageId,
    body: typeof message === 'string' ? message : JSON.stringify(message),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1000' },
  });
  const logger = () => {
    const lines: unknown[] = [];
    return {
      lines,
      warn: (message: string, details: Record<string, unknown>) => lines.push(['warn', message, details]),
      error: (message: string, details: Record<string, unknown>) => lines.push(['error', message, details]),
    };
  };
  const orphan = (app: string) => ({ tenantId: 'acme', app, incarnation: `${app}-1` });

  it('counts what each message did, names each orphan removed, and answers the failed messages alone', async () => {
    const { asked, router } = fargate(
      [{ notStarting: 1 }, { notStarting: 2 }],
      [{ tenantHomes: 1, orphans: [orphan('web'), orphan('api')] }],
    );
    const log = logger();
    const batch = await routeReconciles(
      router,
      [
        delivered('m1', { tenantId: 'acme', runtime: 'fargate' }),
        delivered('m2', { sweep: 'fargate' }),
        delivered('m3', '{"tenantId": "acme", "runtime": '),
        delivered('m4', { tenantId: 'acme', runtime: 'eks' }),
        delivered('m5', { tenantId: 'globex', runtime: 'fargate' }),
        delivered('m6', { sweep: 'fargate' }),
      ],
      log,
    );
    expect(batch).toEqual({
      failed: ['m3', 'm4', 'm6'],
      figures: {
        reconciles: 6,
        reconcilesFailed: 3,
        tenantHomesRemoved: 1,
        orphanedWorkloadsRemoved: 2,
        sweepsRefused: 0,
        appsNotStarting: 3,
      },
    });
    // Each pass asked as of its message's send time; the messages after a failed one still run.
    expect(asked).toEqual([
      { tenantId: 'acme', sentAt: 1000 },
      'sweep',
      { tenantId: 'globex', sentAt: 1000 },
      'sweep',
    ]);
    expect(log.lines).toEqual([
      ['warn', 'removed a workload whose app is gone', orphan('web')],
      ['warn', 'removed a workload whose app is gone', orphan('api')],
      ['error', 'reconcile failed', { messageId: 'm3', error: expect.any(SyntaxError) }],
      [
        'error',
        'reconcile failed',
        {
          messageId: 'm4',
          error: expect.objectContaining({ message: expect.stringContaining('eks runtime') }),
        },
      ],
      [
        'error',
        'reconcile failed',
        { messageId: 'm6', error: expect.objectContaining({ message: 'the runtime did not answer' }) },
      ],
    ]);
  });

  it('counts a refused sweep and says why, removing nothing', async () => {
    const reason = '3 of 4 workloads on fargate have nothing in the table';
    const { router } = fargate([], [{ tenantHomes: 0, orphans: [], refused: reason }]);
    const log = logger();
    const batch = await routeReconciles(router, [delivered('m1', { sweep: 'fargate' })], log);
    expect(batch).toEqual({
      failed: [],
      figures: expect.objectContaining({
        sweepsRefused: 1,
        orphanedWorkloadsRemoved: 0,
        tenantHomesRemoved: 0,
      }),
    });
    expect(log.lines).toEqual([['error', 'sweep refused', { reason }]]);
  });
});
