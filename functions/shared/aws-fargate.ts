import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { AlbAppRoutes, type AlbAppRoutesSettings } from '../adapters/alb/alb-app-routes.ts';
import { AppTargetGroups } from '../adapters/alb/app-target-groups.ts';
import { LoadBalancerZones } from '../adapters/alb/load-balancer-zones.ts';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { FargateLogs } from '../adapters/fargate/fargate-logs.ts';
import { FargateMetrics } from '../adapters/fargate/fargate-metrics.ts';
import { FargateServices } from '../adapters/fargate/fargate-services.ts';
import { FargateTasks } from '../adapters/fargate/fargate-tasks.ts';
import { Route53AppRecords } from '../adapters/route53/app-records.ts';
import { type AwsRuntimeConfig, listenerArns } from './aws-config.ts';

/*
 * The Fargate runtime's adapters over their SDK clients, and apps' DNS records, for the composition roots in
 * aws.ts.
 */

/** The load balancers' API, one client for all a Lambda does with them. */
export const loadBalancing = () => new ElasticLoadBalancingV2Client(sdkClientConfig());

/** Apps' alias records in the install's zone, when it has one. */
export function appRecords(config: AwsRuntimeConfig) {
  const zone = config.BERTH_HOSTED_ZONE_ID;
  return zone ? new Route53AppRecords(new Route53Client(sdkClientConfig()), zone) : undefined;
}

/**
 * Where apps on EKS get their names: the apps' zone (`dns`, the records Fargate apps' names are kept with), and the
 * canonical zones of the load balancers the AWS Load Balancer Controller makes.
 */
export function eksAppRecords(dns: Route53AppRecords | undefined, elb: ElasticLoadBalancingV2Client) {
  if (!dns) return undefined;
  const zones = new LoadBalancerZones(elb);
  return { dns, zoneOf: (dnsName: string) => zones.zoneOf(dnsName) };
}

/** Apps on Fargate: an ECS service each, routed by a target group and host rule on the shared ALB. */
export function fargateServices(
  config: AwsRuntimeConfig,
  dns: Route53AppRecords | undefined,
  elb: ElasticLoadBalancingV2Client,
) {
  return new FargateServices(new ECSClient(sdkClientConfig()), albAppRoutes(config, dns, elb), {
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
  return new FargateTasks(new ECSClient(sdkClientConfig()), config.BERTH_CLUSTER);
}

/** The tasks' utilisation from Container Insights. */
export function fargateMetrics(config: AwsRuntimeConfig) {
  return new FargateMetrics(new CloudWatchClient(sdkClientConfig()), config.BERTH_CLUSTER);
}

/** The apps' logs in CloudWatch Logs. */
export function fargateLogs(config: AwsRuntimeConfig) {
  return new FargateLogs(new CloudWatchLogsClient(sdkClientConfig()), config.BERTH_APP_LOG_GROUP);
}

/** The apps' target groups, for what only reads their targets' health. */
export function appTargetGroups(config: AwsRuntimeConfig, elb: ElasticLoadBalancingV2Client) {
  return new AppTargetGroups(elb, config.BERTH_INSTALLATION);
}

/** Apps' routes on the shared load balancers, with each app's alias record in `dns` where the install has a zone. */
function albAppRoutes(
  config: AwsRuntimeConfig,
  dns: AlbAppRoutesSettings['dns'],
  elb: ElasticLoadBalancingV2Client,
) {
  return new AlbAppRoutes(elb, {
    installation: config.BERTH_INSTALLATION,
    vpcId: config.BERTH_VPC_ID,
    domain: config.BERTH_APP_DOMAIN,
    shards: listenerArns(config).map((listenerArn) => ({ listenerArn })),
    ...(dns ? { dns } : {}),
  });
}
