import { DynamoMeterStore } from '../adapters/dynamodb/meter-store.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { ECS_FARGATE_PLATFORMS, EKS_FARGATE_PLATFORMS } from '../adapters/fargate/task-requests.ts';
import type { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import { appHostname } from '../core/app-hosts.ts';
import type { CoreDeps } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import type { AwsConfig, AwsRuntimeConfig } from './aws-config.ts';
import { dynamodb } from './aws-table.ts';

/*
 * What every composition root of AWS mode shares (aws-api.ts, aws.ts, aws-table-jobs.ts): the table and the core's
 * deps. It imports no runtime adapter and imports nothing dynamically: esbuild gives every bundle holding a module
 * the chunks of that module's dynamic imports.
 */

export type Logger = ApiDeps['logger'];

/**
 * The state every Lambda shares: the table (store and meter), the clock, prices, app URLs, and the runtimes offered
 * with the platforms each runs images on (EKS's nodes, when not Fargate, run what they are).
 */
export function awsCore(
  config: AwsConfig & Partial<AwsRuntimeConfig>,
  queue?: Pick<ReconcileQueue, 'nudge'>,
): CoreDeps {
  const table = dynamodb(config);
  return {
    store: new DynamoStore(table, config.BERTH_TABLE_NAME),
    meter: new DynamoMeterStore(table, config.BERTH_TABLE_NAME),
    clock: { now: () => new Date() },
    appUrl: (tenantId, app) => `https://${appHostname(tenantId, app, config.BERTH_APP_DOMAIN)}`,
    prices: config.BERTH_PRICE_TABLE,
    ...(config.BERTH_SIZES ? { sizes: config.BERTH_SIZES } : {}),
    runtimes: (config.BERTH_RUNTIMES as CoreDeps['runtimes'] | undefined) ?? ['fargate'],
    platforms: {
      fargate: ECS_FARGATE_PLATFORMS,
      ...(config.BERTH_EKS_CLUSTER && config.BERTH_EKS_FARGATE === 'true'
        ? { eks: EKS_FARGATE_PLATFORMS }
        : {}),
    },
    ...(queue ? { appChanged: (app) => queue.nudge(app.tenantId, app.spec.runtime) } : {}),
  };
}
