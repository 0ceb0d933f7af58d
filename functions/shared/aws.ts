import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlbRouter } from '../adapters/alb/alb-router.ts';
import { targetHealthInsights } from '../adapters/alb/target-health-insights.ts';
import { DynamoMeterStore } from '../adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { EcrRegistry } from '../adapters/ecr/ecr-registry.ts';
import { FargateMetrics } from '../adapters/fargate/fargate-metrics.ts';
import { FargateRuntime } from '../adapters/fargate/fargate-runtime.ts';
import { NetHealthProbe } from '../adapters/probe/net-health-probe.ts';
import { S3ReportArchive } from '../adapters/s3/s3-report-archive.ts';
import { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import { makeKeyAuthenticator } from '../core/api-keys.ts';
import type { CoreDeps } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import { Reconciler } from '../jobs/reconcile.ts';
import type { AwsConfig, AwsRuntimeConfig } from './aws-config.ts';

/** Revocation by another Lambda instance takes effect within this time. */
const KEY_CACHE_TTL_MS = 1000;

/** The composition root of AWS mode: the same core and API over DynamoDB and ECR. */
export function awsDeps(config: AwsConfig, logger: ApiDeps['logger']): ApiDeps & { queue: ReconcileQueue } {
  const queue = new ReconcileQueue(new SQSClient({}), config.BERTH_RECONCILE_QUEUE_URL, logger);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const host = `${config.BERTH_ACCOUNT_ID}.dkr.ecr.${config.AWS_REGION}.amazonaws.com`;
  const core: CoreDeps = {
    store: new DynamoStore(documents, config.BERTH_TABLE_NAME),
    meter: new DynamoMeterStore(documents, config.BERTH_TABLE_NAME),
    clock: { now: () => new Date() },
    appUrl: (tenantId, app) => `https://${app}.${tenantId}.${config.BERTH_APP_DOMAIN}`,
    registry: new EcrRegistry({
      ecr: new ECRClient({}),
      sts: new STSClient({}),
      host,
      region: config.AWS_REGION,
      account: config.BERTH_ACCOUNT_ID,
      pushRoleArn: config.BERTH_REGISTRY_PUSH_ROLE_ARN,
    }),
    prices: config.BERTH_PRICE_TABLE,
    reportArchive: new S3ReportArchive(new S3Client({}), config.BERTH_REPORT_BUCKET),
    runtimes: ['fargate'],
    appChanged: (tenantId, app) => queue.nudge(tenantId, app),
  };
  return {
    ...core,
    auth: makeKeyAuthenticator(core, {
      adminKeyHash: config.BERTH_ADMIN_KEY_HASH,
      cacheTtlMs: KEY_CACHE_TTL_MS,
    }),
    rateLimit: { ratePerSecond: config.BERTH_RATE_LIMIT_PER_SECOND, burst: config.BERTH_RATE_LIMIT_BURST },
    logger,
    queue,
  };
}

/** Fargate, CloudWatch metrics and the ALB router, as one install's config names them. */
function awsRuntime(config: AwsRuntimeConfig) {
  const runtime = new FargateRuntime(new ECSClient({}), new CloudWatchLogsClient({}), {
    cluster: config.BERTH_CLUSTER,
    subnets: config.BERTH_APP_SUBNETS,
    securityGroups: config.BERTH_APP_SECURITY_GROUPS,
    executionRoleArn: config.BERTH_TASK_EXECUTION_ROLE_ARN,
    taskRoleArn: config.BERTH_TASK_ROLE_ARN,
    logGroup: config.BERTH_APP_LOG_GROUP,
    region: config.AWS_REGION,
  });
  const metrics = new FargateMetrics(new CloudWatchClient({}), config.BERTH_CLUSTER);
  const router = new AlbRouter(new ElasticLoadBalancingV2Client({}), {
    vpcId: config.BERTH_VPC_ID,
    listenerArn: config.BERTH_LISTENER_ARN,
    domain: config.BERTH_APP_DOMAIN,
  });
  return { runtime, metrics, router };
}

/** The API Lambda's deps: the API over DynamoDB and ECR, with a view of the running replicas. */
export function awsApiDeps(config: AwsRuntimeConfig, logger: ApiDeps['logger']) {
  const { runtime, metrics, router } = awsRuntime(config);
  return { ...awsDeps(config, logger), runtime, metrics, replicaInsights: targetHealthInsights(router) };
}

/** The job Lambdas' deps: the API's, plus Fargate, CloudWatch metrics, the ALB router and the reconciler. */
export function awsJobDeps(config: AwsRuntimeConfig, logger: ApiDeps['logger']) {
  const deps = awsDeps(config, logger);
  const { runtime, metrics, router } = awsRuntime(config);
  const reconciler = new Reconciler({
    ...deps,
    runtime,
    probe: new NetHealthProbe(),
    router,
    // Tasks pull from ECR with their execution role; no credentials travel with the spec.
    pullCredentials: () => undefined,
    logger,
    owner: `lambda:${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? process.pid}`,
    deploymentDeadlineMs: config.BERTH_DEPLOYMENT_DEADLINE_SECONDS * 1000,
    stopGraceSeconds: config.BERTH_STOP_GRACE_SECONDS,
  });
  return { ...deps, runtime, metrics, reconciler };
}
