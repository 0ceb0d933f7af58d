import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { autoscale } from '../jobs/autoscale.ts';
import { type AppRef, dispatchReconciles } from '../jobs/dispatch.ts';
import { type EcsTaskStateChange, recordTaskEvent } from '../jobs/ecs-task-events.ts';
import { meterUsage } from '../jobs/meter.ts';
import { buildMonthlyReports } from '../jobs/report.ts';
import { awsJobDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed } from './lambda.ts';

/**
 * The job Lambdas: one bundle, one exported handler per job (the CDK app points each function at its export).
 * Deps are built once per cold start.
 */
let cached: ReturnType<typeof awsJobDeps> | undefined;
const depsFor = (logger: Parameters<typeof errorLogger>[0]) =>
  (cached ??= awsJobDeps(readAwsRuntimeConfig(), errorLogger(logger)));
const sqs = new SQSClient({});

export const dispatch = observed('dispatch', async (_event: unknown, { logger, metrics }) => {
  const deps = depsFor(logger);
  const queueUrl = readAwsRuntimeConfig().BERTH_RECONCILE_QUEUE_URL;
  if (!queueUrl) throw new Error('BERTH_RECONCILE_QUEUE_URL is not set');
  const sent = await dispatchReconciles(deps.store, async (batch: AppRef[]) => {
    const res = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((ref, i) => ({ Id: String(i), MessageBody: JSON.stringify(ref) })),
      }),
    );
    if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} reconcile messages`);
  });
  metrics.addMetric('reconcilesDispatched', 'Count', sent);
});

export const reconcile = observed(
  'reconcile',
  async (event: SQSEvent, { logger }): Promise<SQSBatchResponse> => {
    const deps = depsFor(logger);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const { tenantId, app } = JSON.parse(record.body) as AppRef;
        await deps.reconciler.reconcileApp(tenantId, app);
      } catch (err) {
        logger.error('reconcile failed', { messageId: record.messageId, error: String(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  },
);

export const scale = observed('scale', async (_event: unknown, { logger, metrics }) => {
  metrics.addMetric('appsScaled', 'Count', await autoscale(depsFor(logger)));
});

export const meter = observed('meter', async (_event: unknown, { logger, metrics }) => {
  const { accrued } = await meterUsage(depsFor(logger));
  metrics.addMetric('lifetimesAccrued', 'Count', accrued);
});

export const report = observed('report', async (_event: unknown, { logger, metrics }) => {
  metrics.addMetric('reportsBuilt', 'Count', await buildMonthlyReports(depsFor(logger)));
});

export const ecsEvents = observed(
  'ecs-events',
  async (event: EventBridgeEvent<'ECS Task State Change', EcsTaskStateChange>, { logger }) => {
    await recordTaskEvent(depsFor(logger).meter, event.detail);
  },
);
