import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { AlbAppRoutes, type AlbAppRoutesSettings } from '../adapters/alb/alb-app-routes.ts';
import { LoadBalancerZones } from '../adapters/alb/load-balancer-zones.ts';
import { FargateMetrics } from '../adapters/fargate/fargate-metrics.ts';
import { FargateServices } from '../adapters/fargate/fargate-services.ts';
import { FargateTasks } from '../adapters/fargate/fargate-tasks.ts';
import { Route53AppRecords } from '../adapters/route53/app-records.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/*
 * The Fargate runtime's adapters over their SDK clients, and apps' DNS records, for the composition roots in
 * aws.ts.
 */

/** Apps' alias records in the install's zone, when it has one. */
export function appRecords(config: AwsRuntimeConfig) {
  const zone = config.BERTH_HOSTED_ZONE_ID;
  return zone ? new Route53AppRecords(new Route53Client({}), zone) : undefined;
}

/**
 * Where apps on EKS get their names: the apps' zone (`dns`, the records Fargate apps' names are kept with), and the
 * canonical zones of the load balancers the AWS Load Balancer Controller makes.
 */
export function eksAppRecords(dns: Route53AppRecords | undefined) {
  if (!dns) return undefined;
  const zones = new LoadBalancerZones(new ElasticLoadBalancingV2Client({}));
  return { dns, zoneOf: (dnsName: string) => zones.zoneOf(dnsName) };
}

/** Apps on Fargate: an ECS service each, routed by a target group and host rule on the shared ALB. */
export function fargateServices(config: AwsRuntimeConfig, dns: Route53AppRecords | undefined) {
  return new FargateServices(new ECSClient({}), albAppRoutes(config, dns), {
    cluster: config.BERTH_CLUSTER,
    subnets: config.BERTH_APP_SUBNETS,
    securityGroups: config.BERTH_APP_SECURITY_GROUPS,
    executionRoleArn: config.BERTH_TASK_EXECUTION_ROLE_ARN,
    taskRoleArn: config.BERTH_TASK_ROLE_ARN,
    logGroup: config.BERTH_APP_LOG_GROUP,
    region: config.AWS_REGION,
  });
}

/** The tasks of the cluster, for what only reads them. */
export function fargateTasks(config: AwsRuntimeConfig) {
  return new FargateTasks(new ECSClient({}), config.BERTH_CLUSTER);
}

/** The tasks' utilisation from Container Insights. */
export function fargateMetrics(config: AwsRuntimeConfig) {
  return new FargateMetrics(new CloudWatchClient({}), config.BERTH_CLUSTER);
}

/** Apps' routes on the shared load balancers, with each app's alias record in `dns` where the install has a zone. */
function albAppRoutes(config: AwsRuntimeConfig, dns: AlbAppRoutesSettings['dns']) {
  return new AlbAppRoutes(new ElasticLoadBalancingV2Client({}), {
    vpcId: config.BERTH_VPC_ID,
    domain: config.BERTH_APP_DOMAIN,
    shards: config.BERTH_LISTENER_ARNS.map((listenerArn, i) => ({
      listenerArn,
      dnsName: config.BERTH_LOAD_BALANCER_DNS_NAMES[i] ?? '',
      zoneId: config.BERTH_LOAD_BALANCER_ZONE_IDS[i] ?? '',
    })),
    ...(dns ? { dns } : {}),
  });
}
