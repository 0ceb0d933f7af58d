import type { RuntimeName } from '../../schemas/app.ts';
import type { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import type { WorkloadRuntime } from '../core/ports.ts';
import type { AutoscaleDeps } from '../jobs/autoscale.ts';
import type { MeterDeps } from '../jobs/meter.ts';
import type { ReconcileRouterDeps } from '../jobs/reconcile-router.ts';
import { WorkloadReconciler } from '../jobs/workload-reconcile.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';
import { awsCore, type Logger } from './aws-core.ts';
import { eksRuntimeOf } from './aws-eks-runtime.ts';
import {
  appRecords,
  eksAppRecords,
  fargateMetrics,
  fargateServices,
  fargateTasks,
  loadBalancing,
} from './aws-fargate.ts';
import { reconcileQueue } from './aws-reconcile-queue.ts';

/*
 * The composition roots of the jobs that reach the runtimes, one per Lambda (the API's is aws-api.ts, those of the
 * jobs of the table alone aws-table-jobs.ts). Each builds only the SDK clients its Lambda uses, so each bundle
 * carries only those (the clients are side-effect free and tree-shaken).
 */

/** The reconcile worker: the workload reconciler of each runtime offered; rollbacks it makes nudge the queue. */
export async function awsReconcileDeps(
  config: AwsRuntimeConfig,
  logger: Logger,
): Promise<ReconcileRouterDeps & { queue: ReconcileQueue }> {
  const queue = reconcileQueue(config, logger);
  const core = awsCore(config, queue);
  const reconcilerOf = (runtime: WorkloadRuntime, runtimeName: RuntimeName) =>
    new WorkloadReconciler({
      ...core,
      runtime,
      runtimeName,
      owner: `lambda:${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? process.pid}`,
      logger,
      deploymentDeadlineMs: config.BERTH_DEPLOYMENT_DEADLINE_SECONDS * 1000,
    });
  // One client each for apps' records and for the load balancers, whichever runtime an app is on.
  const dns = appRecords(config);
  const elb = loadBalancing();
  const eks = await eksRuntimeOf(config, eksAppRecords(dns, elb));
  return {
    workloads: {
      fargate: reconcilerOf(fargateServices(config, dns, elb), 'fargate'),
      ...(eks ? { eks: reconcilerOf(eks, 'eks') } : {}),
    },
    queue,
  };
}

/** The autoscaler: replicas and utilisation of each runtime offered; its scaling writes nudge the queue. */
export async function awsScaleDeps(
  config: AwsRuntimeConfig,
  logger: Logger,
): Promise<AutoscaleDeps & { queue: ReconcileQueue }> {
  const queue = reconcileQueue(config, logger);
  const fargate = {
    runtime: fargateTasks(config),
    metrics: fargateMetrics(config),
  };
  const eks = await eksRuntimeOf(config);
  const views = { fargate, ...(eks ? { eks: { runtime: eks, metrics: eks } } : {}) };
  return { ...awsCore(config, queue), views, queue, logger };
}

/** The meter: lifetimes from the tasks ECS lists and the pods EKS lists, accrued into the table. */
export async function awsMeterDeps(config: AwsRuntimeConfig, logger: Logger): Promise<MeterDeps> {
  const sources: Pick<WorkloadRuntime, 'listReplicas'>[] = [fargateTasks(config)];
  const eks = await eksRuntimeOf(config);
  if (eks) sources.push(eks);
  const runtime = {
    listReplicas: async () => (await Promise.all(sources.map((s) => s.listReplicas()))).flat(),
  };
  return { ...awsCore(config), runtime, logger };
}
