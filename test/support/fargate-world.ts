import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AlbAppRoutes } from '../../functions/adapters/alb/alb-app-routes.ts';
import { FargateServices } from '../../functions/adapters/fargate/fargate-services.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { WorkloadReconciler } from '../../functions/jobs/workload-reconcile.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import { fakeEcs } from '../fakes/fake-ecs.ts';
import { FARGATE_SETTINGS, SHARD } from './aws-fixtures.ts';

/** Fake core deps, ECS and the ALB in memory, and a Fargate reconciler over them, with tenant acme. */
export async function fargateWorld(owner = 'test') {
  const deps = { ...(await fakeCoreDeps()), runtimes: ['fargate'] as const };
  const aws = fakeEcs(deps.clock);
  const noWait = { sleep: async () => undefined };
  const runtime = new FargateServices(
    new ECSClient({}),
    new AlbAppRoutes(
      new ElasticLoadBalancingV2Client({}),
      { installation: 'berth', vpcId: 'vpc-1', shards: [SHARD], domain: 'apps.example.com' },
      noWait,
    ),
    FARGATE_SETTINGS,
    noWait,
  );
  const logged: Record<string, unknown>[] = [];
  const reconciler = new WorkloadReconciler({
    ...deps,
    runtime,
    runtimeName: 'fargate',
    owner,
    deploymentDeadlineMs: 600_000,
    // A pass that fails for an app throws after the others: each test sees it there. What else is logged is kept.
    logger: {
      error: (message: string, details: Record<string, unknown>) => logged.push({ message, ...details }),
    },
  });
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  /** One pass, with the lease free again (each pass is a new tick). */
  const pass = async () => {
    const result = await reconciler.reconcileTenant('acme');
    deps.clock.advance(11_000);
    return result;
  };
  return { deps, aws, pass, runtime, reconciler, logged };
}
