import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { targetHealthInsights } from '../adapters/alb/target-health-insights.ts';
import { FargateLogs } from '../adapters/fargate/fargate-logs.ts';
import type { ReplicaView } from '../core/ports.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';
import { albAppRoutes, fargateMetrics, fargateTasks } from './aws-fargate.ts';

/* The API's view of Fargate replicas, a module of its own because the API imports it on first use (aws-api.ts). */

/** Fargate tasks seen through ECS, CloudWatch and the load balancer's target health. */
export function fargateView(config: AwsRuntimeConfig): ReplicaView {
  return {
    runtime: fargateTasks(config),
    logs: new FargateLogs(new CloudWatchLogsClient({}), config.BERTH_APP_LOG_GROUP),
    metrics: fargateMetrics(config),
    replicaInsights: targetHealthInsights(albAppRoutes(config)),
  };
}
