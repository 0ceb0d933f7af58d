import { S3Client } from '@aws-sdk/client-s3';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { S3ReportArchive } from '../adapters/s3/s3-report-archive.ts';
import type { TaskEventDeps } from '../jobs/ecs-task-events.ts';
import type { ReportDeps } from '../jobs/report.ts';
import type { AwsConfig, AwsRuntimeConfig, AwsTableConfig } from './aws-config.ts';
import { awsCore, type Logger } from './aws-core.ts';
import { reconcileQueue } from './aws-reconcile-queue.ts';
import { dynamodb } from './aws-table.ts';

/* The composition roots of the jobs of the table alone: they reach no runtime, so their bundles hold none. */

/** The report job: reports from the table, filed in the report bucket. */
export function awsReportDeps(config: AwsConfig, logger: Logger): ReportDeps {
  return {
    ...awsCore(config),
    reportArchive: new S3ReportArchive(new S3Client(sdkClientConfig()), config.BERTH_REPORT_BUCKET),
    logger,
  };
}

/** The ECS task event handler: lifetimes, and apps' events of failed tasks, straight into the table. */
export function awsTaskEventDeps(config: AwsConfig): TaskEventDeps {
  return awsCore(config);
}

/** The install's custom resource: the plans an installation starts with, into the table. */
export function awsInstallDeps(config: AwsTableConfig) {
  return {
    store: new DynamoStore(dynamodb(config), config.BERTH_TABLE_NAME),
    clock: { now: () => new Date() },
  };
}

/**
 * The dispatcher: tenants from the table onto the queue, one message per tenant and runtime in use, and a sweep
 * per runtime offered.
 */
export function awsDispatchDeps(config: AwsRuntimeConfig, logger: Logger) {
  return {
    store: new DynamoStore(dynamodb(config), config.BERTH_TABLE_NAME),
    queue: reconcileQueue(config, logger),
    runtimes: config.BERTH_RUNTIMES,
  };
}
