import * as z from 'zod';
import { DEFAULT_PRICE_TABLE, PriceTable } from '../../schemas/billing.ts';
import { OfferedSizes } from '../../schemas/fargate-sizes.ts';
import {
  AdminKeyHashes,
  IdleTimeoutSecondsVar,
  JsonText,
  parseConfig,
  RateLimitVars,
} from './config-parsing.ts';

const List = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** The environment the CDK app gives every Lambda, validated once per cold start. */
export const AwsConfig = z.object({
  AWS_REGION: z.string().min(1),
  /** Where DynamoDB answers, when not the region's endpoint: the SDK's own variable (benches point it at DynamoDB Local). */
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  BERTH_ACCOUNT_ID: z.string().regex(/^\d{12}$/),
  /** The install's name, lowercased: its repositories, target groups, metrics and EKS namespaces are scoped by it. */
  BERTH_INSTALLATION: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/),
  BERTH_TABLE_NAME: z.string().min(3),
  BERTH_APP_DOMAIN: z.string().min(3).describe('Apps answer at https://<app>--<tenant>.<domain>.'),
  /** The admin keys' hashes, comma-separated: two during a rotation. */
  BERTH_ADMIN_KEY_HASH: List.pipe(AdminKeyHashes),
  BERTH_REGISTRY_PUSH_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_PRICE_TABLE: JsonText.pipe(PriceTable).default(DEFAULT_PRICE_TABLE),
  /** The app sizes offered; every Fargate size when unset. */
  BERTH_SIZES: JsonText.pipe(OfferedSizes).optional(),
  ...RateLimitVars,
  BERTH_RECONCILE_QUEUE_URL: z.url(),
  BERTH_REPORT_BUCKET: z.string().min(3),
});
export type AwsConfig = z.infer<typeof AwsConfig>;

/** What the job Lambdas need besides: where tenants' tasks run and how traffic reaches them. */
export const AwsRuntimeConfig = AwsConfig.extend({
  BERTH_RUNTIMES: List.pipe(z.array(z.enum(['fargate', 'eks'])).min(1)).default(['fargate']),
  BERTH_CLUSTER: z.string().min(1),
  BERTH_VPC_ID: z.string().startsWith('vpc-'),
  BERTH_APP_SUBNETS: List.pipe(z.array(z.string().startsWith('subnet-')).min(1)),
  BERTH_APP_SECURITY_GROUPS: List.pipe(z.array(z.string().startsWith('sg-')).min(1)),
  BERTH_TASK_EXECUTION_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_TASK_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_APP_LOG_GROUP: z.string().min(1),
  /**
   * The shared load balancers (shards), in fill order: each HTTPS listener's id, its ARN after `listener/app/`
   * (`<name>/<load balancer id>/<listener id>`). Not whole ARNs, nor the load balancers' DNS names (read when an
   * alias is written): a Lambda's environment holds 4 KB in all, which 20 of those would pass.
   */
  BERTH_LISTENERS: List.pipe(z.array(z.string().regex(/^[^/]+\/[^/]+\/[^/]+$/)).min(1)),
  /** The Route 53 zone of the apps' domain, where each app gets an alias to its load balancer. */
  BERTH_HOSTED_ZONE_ID: z.string().min(1).optional(),
  BERTH_DEPLOYMENT_DEADLINE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** The EKS cluster apps with `runtime: "eks"` run on; set exactly when BERTH_RUNTIMES offers eks. */
  BERTH_EKS_CLUSTER: z.string().min(1).optional(),
  /** The AWS Load Balancer Controller ingress group EKS apps share; the install's own (clusterScope) when unset. */
  BERTH_EKS_INGRESS_GROUP: z.string().min(1).optional(),
  /** The idle timeout of the apps' load balancers (the install's appIdleTimeoutSeconds), which EKS's must be told. */
  BERTH_APP_IDLE_TIMEOUT_SECONDS: IdleTimeoutSecondsVar,
  /** The bucket the EKS apps' load balancer writes its access logs to, as the Fargate apps' do; none when unset. */
  BERTH_EKS_ACCESS_LOGS_BUCKET: z.string().min(1).optional(),
  /** Where the load balancer's traffic comes from: all a tenant's pods admit. */
  BERTH_EKS_LOAD_BALANCER_CIDRS: List.pipe(z.array(z.cidrv4()).min(1)).optional(),
  /** Pods run on EKS Fargate (billed by the Fargate size AWS provisions). */
  BERTH_EKS_FARGATE: z.enum(['true', 'false']).default('true'),
})
  .refine((c) => c.BERTH_LISTENERS.length === 1 || c.BERTH_HOSTED_ZONE_ID, {
    message: 'required with more than one load balancer (apps are found by their own DNS records)',
    path: ['BERTH_HOSTED_ZONE_ID'],
  })
  .refine((c) => c.BERTH_RUNTIMES.includes('eks') === Boolean(c.BERTH_EKS_CLUSTER), {
    message: 'BERTH_EKS_CLUSTER is set exactly when BERTH_RUNTIMES offers eks',
    path: ['BERTH_EKS_CLUSTER'],
  })
  .refine((c) => !c.BERTH_EKS_CLUSTER || c.BERTH_HOSTED_ZONE_ID, {
    message:
      "required with BERTH_EKS_CLUSTER (apps on EKS answer on the cluster's own load balancer, by their own records)",
    path: ['BERTH_HOSTED_ZONE_ID'],
  })
  .refine((c) => !c.BERTH_EKS_CLUSTER || c.BERTH_EKS_LOAD_BALANCER_CIDRS, {
    message: 'required with BERTH_EKS_CLUSTER',
    path: ['BERTH_EKS_LOAD_BALANCER_CIDRS'],
  });
export type AwsRuntimeConfig = z.infer<typeof AwsRuntimeConfig>;

/** The shared load balancers' listener ARNs, put together from the ids the Lambdas' environment names them by. */
export const listenerArns = (c: AwsRuntimeConfig) =>
  c.BERTH_LISTENERS.map(
    (id) => `arn:aws:elasticloadbalancing:${c.AWS_REGION}:${c.BERTH_ACCOUNT_ID}:listener/app/${id}`,
  );

/** What a Lambda that only writes the table reads: the install's custom resource. */
export const AwsTableConfig = AwsConfig.pick({
  AWS_REGION: true,
  AWS_ENDPOINT_URL_DYNAMODB: true,
  BERTH_TABLE_NAME: true,
});
export type AwsTableConfig = z.infer<typeof AwsTableConfig>;

/** The install's name, which every handler's figures carry (functions/handlers/lambda.ts). */
export function readInstallation(env: NodeJS.ProcessEnv = process.env): string {
  return parseConfig(AwsConfig.pick({ BERTH_INSTALLATION: true }), env, 'Lambda configuration')
    .BERTH_INSTALLATION;
}

export function readAwsTableConfig(env: NodeJS.ProcessEnv = process.env): AwsTableConfig {
  return parseConfig(AwsTableConfig, env, 'Lambda configuration');
}

/** Reads the Lambda environment, naming every variable that is wrong. */
export function readAwsRuntimeConfig(env: NodeJS.ProcessEnv = process.env): AwsRuntimeConfig {
  return parseConfig(AwsRuntimeConfig, env, 'Lambda configuration');
}
