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

/** Runs a job over the deps, then sends the reconcile nudges its writes made (e.g. a rollback). */
async function withDeps<T>(
  logger: Parameters<typeof errorLogger>[0],
  job: (deps: ReturnType<typeof awsJobDeps>) => Promise<T>,
): Promise<T> {
  cached ??= awsJobDeps(readAwsRuntimeConfig(), errorLogger(logger));
  try {
    return await job(cached);
  } finally {
    await cached.queue.flush();
  }
}

export const dispatch = observed('dispatch', async (_event: unknown, { logger, metrics }) => {
  const sent = await withDeps(logger, (deps) =>
    dispatchReconciles(deps.store, (batch) => deps.queue.send(batch)),
  );
  metrics.addMetric('reconcilesDispatched', 'Count', sent);
});

export const reconcile = observed(
  'reconcile',
  async (event: SQSEvent, { logger }): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await withDeps(logger, async (deps) => {
      for (const record of event.Records) {
        try {
          const { tenantId, app } = JSON.parse(record.body) as AppRef;
          await deps.reconciler.reconcileApp(tenantId, app);
        } catch (err) {
          logger.error('reconcile failed', { messageId: record.messageId, error: String(err) });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    });
    return { batchItemFailures: failures };
  },
);

export const scale = observed('scale', async (_event: unknown, { logger, metrics }) => {
  metrics.addMetric('appsScaled', 'Count', await withDeps(logger, autoscale));
});

export const meter = observed('meter', async (_event: unknown, { logger, metrics }) => {
  const { accrued } = await withDeps(logger, meterUsage);
  metrics.addMetric('lifetimesAccrued', 'Count', accrued);
});

export const report = observed('report', async (_event: unknown, { logger, metrics }) => {
  metrics.addMetric('reportsBuilt', 'Count', await withDeps(logger, (deps) => buildMonthlyReports(deps)));
});

export const ecsEvents = observed(
  'ecs-events',
  async (event: EventBridgeEvent<'ECS Task State Change', EcsTaskStateChange>, { logger }) => {
    await withDeps(logger, (deps) => recordTaskEvent(deps.meter, event.detail));
  },
);
