import { systemHosts } from '../adapters/dns/system-hosts.ts';
import { ecrHost, ecrNamespace } from '../adapters/ecr/ecr-names.ts';
import { makeKeyAuthenticator } from '../core/api-keys.ts';
import type { ReplicaViews } from '../core/ports.ts';
import { RecentAnswers } from '../core/recent-answers.ts';
import type { ApiDeps } from '../http/context.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';
import { awsCore, type Logger } from './aws-core.ts';
import type { EksInstall } from './aws-eks.ts';
import { eksInstallOf } from './aws-eks-runtime.ts';
import {
  deferredNudges,
  deferredPrivateDomains,
  deferredRegistry,
  deferredReplicaView,
  type Nudges,
} from './deferred-ports.ts';

/*
 * The composition root of the API Lambda. It defers what most requests never use — ECR, Fargate's view of replicas,
 * the reconcile queue's SQS client, which only writes that change an app use, and Route 53's private zones, which
 * only an image from another registry needs — to modules imported on first use,
 * which the Lambda's bundle keeps in chunks of their own. (In a module of its own because esbuild gives every bundle
 * that includes a module the chunks of its dynamic imports.)
 */

/**
 * API Gateway waits at most 30 s for the Lambda's whole answer, which may be at most 6 MB: waiting requests answer
 * within 20 s, streamed bodies stay under 5 MB.
 */
const BUFFERED_ANSWERS = { waitMs: 20_000, maxBodyBytes: 5 * 1024 * 1024 };
/**
 * How long an app's instances, once read, answer again in this Lambda instance: a dashboard polling them then
 * costs the account's ECS, ELB and CloudWatch read quotas — which the jobs share — a few reads every few seconds,
 * not a few per request.
 */
const INSTANCES_KEPT_MS = 3000;

/** The replica views of the runtimes the install offers; Fargate's adapters load when a request needs them. */
function replicaViews(config: AwsRuntimeConfig, eks: EksInstall | undefined): ReplicaViews {
  const fargate = deferredReplicaView(async () =>
    (await import('./aws-fargate-view.ts')).fargateView(config),
  );
  return { fargate, ...(eks ? { eks: eks.runtime.view() } : {}) };
}

/**
 * The API Lambda: the API over DynamoDB and ECR, with a view of the running replicas (tasks, their logs, metrics
 * and load balancer health). Writes nudge the reconcile queue.
 */
export async function awsApiDeps(
  config: AwsRuntimeConfig,
  logger: Logger,
  audit: ApiDeps['audit'],
): Promise<ApiDeps & { queue: Nudges }> {
  const queue = deferredNudges(
    async () => (await import('./aws-reconcile-queue.ts')).reconcileQueue(config, logger),
    logger,
  );
  const core = awsCore(config, queue);
  const eks = await eksInstallOf(config);
  return {
    ...core,
    registry: deferredRegistry(
      {
        host: ecrHost(config.BERTH_ACCOUNT_ID, config.AWS_REGION),
        namespaceOf: (tenantId) => ecrNamespace(config.BERTH_INSTALLATION, tenantId),
      },
      async () => (await import('./aws-registry.ts')).ecrRegistry(config, core.store),
    ),
    // Tasks resolve names through the VPC, which may hold private zones this Lambda, outside it, never sees.
    hosts: deferredPrivateDomains(systemHosts, async () =>
      (await import('./aws-vpc-domains.ts')).vpcPrivateDomains(config, eks?.clusterVpc),
    ),
    auth: makeKeyAuthenticator(core, {
      adminKeyHashes: config.BERTH_ADMIN_KEY_HASH,
      logger,
    }),
    // Every Lambda instance serves the API, so a key's requests are counted in the table, not per instance.
    rateLimit: {
      ratePerSecond: config.BERTH_RATE_LIMIT_PER_SECOND,
      burst: config.BERTH_RATE_LIMIT_BURST,
      shared: true,
    },
    logger,
    audit,
    views: replicaViews(config, eks),
    bufferedAnswers: BUFFERED_ANSWERS,
    recentInstances: new RecentAnswers(INSTANCES_KEPT_MS),
    queue,
  };
}
