import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { QueueMessage } from '../jobs/dispatch.ts';
import { askedAt, routeReconcile } from '../jobs/reconcile-router.ts';
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
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let removedHomes = 0;
    let removedOrphans = 0;
    let refusedSweeps = 0;
    let notStarting = 0;
    await thenFlush(router.queue, async () => {
      for (const record of event.Records) {
        try {
          const message = JSON.parse(record.body) as QueueMessage;
          const routed = await routeReconcile(router, message, askedAt(record.attributes));
          if ('pass' in routed) {
            notStarting += routed.pass.notStarting;
            continue;
          }
          const { swept } = routed;
          removedHomes += swept.tenantHomes;
          removedOrphans += swept.orphans.length;
          // Nothing Berth made should outlive its app: each one found says how it happened (a lost lease, a table
          // restored from before the app), so each is named.
          for (const orphan of swept.orphans)
            logger.warn('removed a workload whose app is gone', { ...orphan });
          if (swept.refused) {
            refusedSweeps += 1;
            logger.error('sweep refused', { reason: swept.refused });
          }
        } catch (err) {
          logger.error('reconcile failed', { messageId: record.messageId, error: err });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    });
    metrics.addMetric('reconciles', 'Count', event.Records.length);
    metrics.addMetric('reconcilesFailed', 'Count', failures.length);
    metrics.addMetric('tenantHomesRemoved', 'Count', removedHomes);
    metrics.addMetric('orphanedWorkloadsRemoved', 'Count', removedOrphans);
    metrics.addMetric('sweepsRefused', 'Count', refusedSweeps);
    metrics.addMetric('appsNotStarting', 'Count', notStarting);
    return { batchItemFailures: failures };
  },
);
