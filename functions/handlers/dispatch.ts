import { dispatchReconciles } from '../jobs/dispatch.ts';
import { awsDispatchDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed } from './lambda.ts';

let deps: ReturnType<typeof awsDispatchDeps> | undefined;

/** The dispatcher Lambda (on a schedule): reconcile messages onto the queue, one per app or per tenant on EKS. */
export const handler = observed('dispatch', async (_event: unknown, { logger, metrics }) => {
  deps ??= awsDispatchDeps(readAwsRuntimeConfig(), errorLogger(logger));
  const { store, queue, workloadRuntimes } = deps;
  const sent = await dispatchReconciles(store, workloadRuntimes, (batch) => queue.send(batch));
  metrics.addMetric('reconcilesDispatched', 'Count', sent);
});
