import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AppRef } from '../jobs/dispatch.ts';
import { awsReconcileDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

let deps: ReturnType<typeof awsReconcileDeps> | undefined;

/** The reconcile worker Lambda (SQS): one pass per app message; a failed app is retried alone, then dead-lettered. */
export const handler = observed(
  'reconcile',
  async (event: SQSEvent, { logger }): Promise<SQSBatchResponse> => {
    deps ??= awsReconcileDeps(readAwsRuntimeConfig(), errorLogger(logger));
    const { reconciler, queue } = deps;
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await thenFlush(queue, async () => {
      for (const record of event.Records) {
        try {
          const { tenantId, app } = JSON.parse(record.body) as AppRef;
          await reconciler.reconcileApp(tenantId, app);
        } catch (err) {
          logger.error('reconcile failed', { messageId: record.messageId, error: String(err) });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    });
    return { batchItemFailures: failures };
  },
);
