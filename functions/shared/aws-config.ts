import { z } from 'zod';
import { DEFAULT_PRICE_TABLE, PriceTable } from '../../schemas/billing.ts';
import { JsonText, parseConfig } from './config-parsing.ts';

/** The environment the CDK app gives every Lambda, validated once per cold start. */
export const AwsConfig = z.object({
  AWS_REGION: z.string().min(1),
  BERTH_ACCOUNT_ID: z.string().regex(/^\d{12}$/),
  BERTH_TABLE_NAME: z.string().min(3),
  BERTH_APP_DOMAIN: z.string().min(3).describe('Apps answer at https://<app>.<tenant>.<domain>.'),
  BERTH_ADMIN_KEY_HASH: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 hex of the admin key (never the key itself)'),
  BERTH_REGISTRY_PUSH_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_PRICE_TABLE: JsonText.pipe(PriceTable).default(DEFAULT_PRICE_TABLE),
  BERTH_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  BERTH_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(200),
  BERTH_RECONCILE_QUEUE_URL: z.url(),
  BERTH_REPORT_BUCKET: z.string().min(3),
});
export type AwsConfig = z.infer<typeof AwsConfig>;

const List = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** What the job Lambdas need besides: where tenants' tasks run and how traffic reaches them. */
export const AwsRuntimeConfig = AwsConfig.extend({
  BERTH_CLUSTER: z.string().min(1),
  BERTH_VPC_ID: z.string().startsWith('vpc-'),
  BERTH_APP_SUBNETS: List.pipe(z.array(z.string().startsWith('subnet-')).min(1)),
  BERTH_APP_SECURITY_GROUPS: List.pipe(z.array(z.string().startsWith('sg-')).min(1)),
  BERTH_TASK_EXECUTION_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_TASK_ROLE_ARN: z.string().startsWith('arn:aws:iam::'),
  BERTH_APP_LOG_GROUP: z.string().min(1),
  BERTH_LISTENER_ARN: z.string().startsWith('arn:aws:elasticloadbalancing:'),
  BERTH_DEPLOYMENT_DEADLINE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  BERTH_STOP_GRACE_SECONDS: z.coerce.number().int().min(0).max(120).default(30),
});
export type AwsRuntimeConfig = z.infer<typeof AwsRuntimeConfig>;

/** Reads the Lambda environment, naming every variable that is wrong. */
export function readAwsRuntimeConfig(env: NodeJS.ProcessEnv = process.env): AwsRuntimeConfig {
  return parseConfig(AwsRuntimeConfig, env, 'Lambda configuration');
}
