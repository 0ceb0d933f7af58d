import { targetHealthInsights } from '../adapters/alb/target-health-insights.ts';
import type { ReplicaView } from '../core/ports.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';
import { appTargetGroups, fargateLogs, fargateMetrics, fargateTasks, loadBalancing } from './aws-fargate.ts';

/* The API's view of Fargate replicas, a module of its own because the API imports it on first use (aws-api.ts). */

/** Fargate tasks seen through ECS, CloudWatch and the load balancer's target health. */
export function fargateView(config: AwsRuntimeConfig): ReplicaView {
  return {
    runtime: fargateTasks(config),
    logs: fargateLogs(config),
    metrics: fargateMetrics(config),
    replicaInsights: targetHealthInsights(appTargetGroups(config, loadBalancing())),
  };
}
