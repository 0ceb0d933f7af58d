import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RuntimeName } from '../../schemas/app.ts';
import { AlbAppRoutes, type AlbAppRoutesSettings } from '../adapters/alb/alb-app-routes.ts';
import { targetHealthInsights } from '../adapters/alb/target-health-insights.ts';
import { DynamoMeterStore } from '../adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { EcrRegistry } from '../adapters/ecr/ecr-registry.ts';
import { FargateLogs } from '../adapters/fargate/fargate-logs.ts';
import { FargateMetrics } from '../adapters/fargate/fargate-metrics.ts';
import { FargateServices } from '../adapters/fargate/fargate-services.ts';
import { FargateTasks } from '../adapters/fargate/fargate-tasks.ts';
import { Route53AppRecords } from '../adapters/route53/app-records.ts';
import { S3ReportArchive } from '../adapters/s3/s3-report-archive.ts';
import { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import { makeKeyAuthenticator } from '../core/api-keys.ts';
import { appHostname } from '../core/app-hosts.ts';
import type { CoreDeps, ReplicaView, ReplicaViews, WorkloadRuntime } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import type { AutoscaleDeps } from '../jobs/autoscale.ts';
import type { MeterDeps } from '../jobs/meter.ts';
import type { ReconcileRouterDeps } from '../jobs/reconcile-router.ts';
import type { ReportDeps } from '../jobs/report.ts';
import { WorkloadReconciler } from '../jobs/workload-reconcile.ts';
import type { AwsConfig, AwsRuntimeConfig } from './aws-config.ts';

/*
 * The composition roots of AWS mode, one per Lambda. Each builds only the SDK clients its Lambda uses, so each
 * bundle carries only those (the clients are side-effect free and tree-shaken).
 */

/** Revocation by another Lambda instance takes effect within this time. */
const KEY_CACHE_TTL_MS = 1000;
/**
 * API Gateway waits at most 30 s for the Lambda's whole answer, which may be at most 6 MB: waiting requests answer
 * within 20 s, streamed bodies stay under 5 MB.
 */
const BUFFERED_ANSWERS = { waitMs: 20_000, maxBodyBytes: 5 * 1024 * 1024 };

type Logger = ApiDeps['logger'];

function documents() {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function reconcileQueue(config: AwsConfig, logger: Logger): ReconcileQueue {
  return new ReconcileQueue(new SQSClient({}), config.BERTH_RECONCILE_QUEUE_URL, logger);
}

/** The state every Lambda shares: the table (store and meter), the clock, prices, app URLs and runtimes offered. */
function awsCore(config: AwsConfig & Partial<AwsRuntimeConfig>, queue?: ReconcileQueue): CoreDeps {
  const table = documents();
  return {
    store: new DynamoStore(table, config.BERTH_TABLE_NAME),
    meter: new DynamoMeterStore(table, config.BERTH_TABLE_NAME),
    clock: { now: () => new Date() },
    appUrl: (tenantId, app) => `https://${appHostname(tenantId, app, config.BERTH_APP_DOMAIN)}`,
    prices: config.BERTH_PRICE_TABLE,
    ...(config.BERTH_SIZES ? { sizes: config.BERTH_SIZES } : {}),
    runtimes: (config.BERTH_RUNTIMES as CoreDeps['runtimes'] | undefined) ?? ['fargate'],
    ...(queue ? { appChanged: (tenantId: string, app: string) => queue.nudge(tenantId, app) } : {}),
  };
}

/** Apps on Fargate: an ECS service each, routed by a target group and host rule on the shared ALB. */
function fargateServices(config: AwsRuntimeConfig) {
  const zone = config.BERTH_HOSTED_ZONE_ID;
  const dns = zone ? new Route53AppRecords(new Route53Client({}), zone) : undefined;
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
function fargateTasks(config: AwsRuntimeConfig) {
  return new FargateTasks(new ECSClient({}), config.BERTH_CLUSTER);
}

/** The tasks' utilisation from Container Insights. */
function fargateMetrics(config: AwsRuntimeConfig) {
  return new FargateMetrics(new CloudWatchClient({}), config.BERTH_CLUSTER);
}

/** Apps' routes on the shared load balancers; `dns` where routes are written (each app's alias record). */
function albAppRoutes(config: AwsRuntimeConfig, dns?: AlbAppRoutesSettings['dns']) {
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

/**
 * The EKS runtime when the install offers it; its module is only evaluated then. The CDK app bundles an install
 * without EKS with BERTH_EKS_BUNDLED defined as "false", so its bundles leave the Kubernetes client out entirely.
 */
async function eksRuntimeOf(config: AwsRuntimeConfig) {
  const cluster = config.BERTH_EKS_CLUSTER;
  if (!cluster) return undefined;
  // A conditional expression, not an early return: esbuild drops an import() only from a branch it folds away.
  const eks = process.env.BERTH_EKS_BUNDLED === 'false' ? undefined : await import('./aws-eks.ts');
  if (!eks)
    throw new Error('this bundle was built for an install without EKS; deploy again with eks configured');
  return eks.eksRuntime({ ...config, BERTH_EKS_CLUSTER: cluster });
}

/** Fargate tasks seen through ECS, CloudWatch and the load balancer's target health. */
function fargateView(config: AwsRuntimeConfig): ReplicaView {
  return {
    runtime: fargateTasks(config),
    logs: new FargateLogs(new CloudWatchLogsClient({}), config.BERTH_APP_LOG_GROUP),
    metrics: fargateMetrics(config),
    replicaInsights: targetHealthInsights(albAppRoutes(config)),
  };
}

/** The replica views of the runtimes the install offers. */
async function replicaViews(config: AwsRuntimeConfig): Promise<ReplicaViews> {
  const eks = await eksRuntimeOf(config);
  return { fargate: fargateView(config), ...(eks ? { eks: eks.view() } : {}) };
}

/**
 * The API Lambda: the API over DynamoDB and ECR, with a view of the running replicas (tasks, their logs, metrics
 * and load balancer health). Writes nudge the reconcile queue.
 */
export async function awsApiDeps(
  config: AwsRuntimeConfig,
  logger: Logger,
): Promise<ApiDeps & { queue: ReconcileQueue }> {
  const queue = reconcileQueue(config, logger);
  const core = awsCore(config, queue);
  return {
    ...core,
    registry: new EcrRegistry({
      ecr: new ECRClient({}),
      sts: new STSClient({}),
      host: `${config.BERTH_ACCOUNT_ID}.dkr.ecr.${config.AWS_REGION}.amazonaws.com`,
      region: config.AWS_REGION,
      account: config.BERTH_ACCOUNT_ID,
      pushRoleArn: config.BERTH_REGISTRY_PUSH_ROLE_ARN,
    }),
    auth: makeKeyAuthenticator(core, {
      adminKeyHash: config.BERTH_ADMIN_KEY_HASH,
      cacheTtlMs: KEY_CACHE_TTL_MS,
    }),
    // Every Lambda instance serves the API, so a key's requests are counted in the table, not per instance.
    rateLimit: {
      ratePerSecond: config.BERTH_RATE_LIMIT_PER_SECOND,
      burst: config.BERTH_RATE_LIMIT_BURST,
      shared: true,
    },
    logger,
    views: await replicaViews(config),
    bufferedAnswers: BUFFERED_ANSWERS,
    queue,
  };
}

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
      deploymentDeadlineMs: config.BERTH_DEPLOYMENT_DEADLINE_SECONDS * 1000,
    });
  const eks = await eksRuntimeOf(config);
  return {
    store: core.store,
    workloads: {
      fargate: reconcilerOf(fargateServices(config), 'fargate'),
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
  return { ...awsCore(config, queue), views, queue };
}

/** The meter: lifetimes from the tasks ECS lists and the pods EKS lists, accrued into the table. */
export async function awsMeterDeps(config: AwsRuntimeConfig): Promise<MeterDeps> {
  const sources: Pick<WorkloadRuntime, 'listReplicas'>[] = [fargateTasks(config)];
  const eks = await eksRuntimeOf(config);
  if (eks) sources.push(eks);
  const runtime = {
    listReplicas: async () => (await Promise.all(sources.map((s) => s.listReplicas()))).flat(),
  };
  return { ...awsCore(config), runtime };
}

/** The report job: reports from the table, filed in the report bucket. */
export function awsReportDeps(config: AwsConfig): ReportDeps {
  return {
    ...awsCore(config),
    reportArchive: new S3ReportArchive(new S3Client({}), config.BERTH_REPORT_BUCKET),
  };
}

/** The ECS task event handler: lifetimes straight into the table. */
export function awsMeterStore(config: AwsConfig): DynamoMeterStore {
  return new DynamoMeterStore(documents(), config.BERTH_TABLE_NAME);
}

/** The dispatcher: tenants from the table onto the queue, one message per tenant and runtime in use. */
export function awsDispatchDeps(config: AwsConfig, logger: Logger) {
  return {
    store: new DynamoStore(documents(), config.BERTH_TABLE_NAME),
    queue: reconcileQueue(config, logger),
  };
}
