import { dispatchReconciles } from '../jobs/dispatch.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsDispatchDeps } from '../shared/aws-table-jobs.ts';
import { errorLogger, observed } from './lambda.ts';

let deps: ReturnType<typeof awsDispatchDeps> | undefined;

/** The dispatcher Lambda (on a schedule): one reconcile message per tenant and runtime onto the queue. */
export const handler = observed('dispatch', async (_event: unknown, { logger, metrics }) => {
  deps ??= awsDispatchDeps(readAwsRuntimeConfig(), errorLogger(logger));
  const { store, queue } = deps;
  const sent = await dispatchReconciles(store, (batch) => queue.send(batch));
  metrics.addMetric('reconcilesDispatched', 'Count', sent);
});
