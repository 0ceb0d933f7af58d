import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoMeterStore } from '../adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { EcrRegistry } from '../adapters/ecr/ecr-registry.ts';
import { makeKeyAuthenticator } from '../core/api-keys.ts';
import type { CoreDeps } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import type { AwsConfig } from './aws-config.ts';

/** Revocation by another Lambda instance takes effect within this time. */
const KEY_CACHE_TTL_MS = 1000;

/** The composition root of AWS mode: the same core and API over DynamoDB and ECR. */
export function awsDeps(config: AwsConfig, logger: ApiDeps['logger']): ApiDeps {
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
    runtimes: ['fargate'],
  };
  return {
    ...core,
    auth: makeKeyAuthenticator(core, {
      adminKeyHash: config.BERTH_ADMIN_KEY_HASH,
      cacheTtlMs: KEY_CACHE_TTL_MS,
    }),
    rateLimit: { ratePerSecond: config.BERTH_RATE_LIMIT_PER_SECOND, burst: config.BERTH_RATE_LIMIT_BURST },
    logger,
  };
}
