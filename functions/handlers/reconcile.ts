import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { routeReconciles } from '../jobs/reconcile-router.ts';
import { awsReconcileDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

/**
 * The reconcile worker Lambda (SQS): one pass per message (a tenant's apps on one runtime), skipped when a pass
 * that began after SQS took the message covers it, or a sweep; a failed message is retried alone, then
 * dead-lettered.
 */
export const handler = await observed(
  'reconcile',
  ({ logger }) => awsReconcileDeps(readAwsRuntimeConfig(), errorLogger(logger)),
  async (event: SQSEvent, { logger, metrics, deps: router }): Promise<SQSBatchResponse> => {
    const { failed, figures } = await thenFlush(router.queue, () =>
      routeReconciles(router, event.Records, logger),
    );
    for (const [name, value] of Object.entries(figures)) metrics.addMetric(name, 'Count', value);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  },
);
