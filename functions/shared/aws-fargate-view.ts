import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AppTargetGroups } from '../adapters/alb/app-target-groups.ts';
import { targetHealthInsights } from '../adapters/alb/target-health-insights.ts';
import { FargateLogs } from '../adapters/fargate/fargate-logs.ts';
import type { ReplicaView } from '../core/ports.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';
import { fargateMetrics, fargateTasks } from './aws-fargate.ts';

/* The API's view of Fargate replicas, a module of its own because the API imports it on first use (aws-api.ts). */

/** Fargate tasks seen through ECS, CloudWatch and the load balancer's target health. */
export function fargateView(config: AwsRuntimeConfig): ReplicaView {
  return {
    runtime: fargateTasks(config),
    logs: new FargateLogs(new CloudWatchLogsClient({}), config.BERTH_APP_LOG_GROUP),
    metrics: fargateMetrics(config),
    replicaInsights: targetHealthInsights(new AppTargetGroups(new ElasticLoadBalancingV2Client({}))),
  };
}
