import { dispatchReconciles } from '../jobs/dispatch.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsDispatchDeps } from '../shared/aws-table-jobs.ts';
import { errorLogger, observed } from './lambda.ts';

/** The dispatcher Lambda (on a schedule): one reconcile message per tenant and runtime onto the queue. */
export const handler = await observed(
  'dispatch',
  ({ logger }) => awsDispatchDeps(readAwsRuntimeConfig(), errorLogger(logger)),
  async (_event: unknown, { metrics, deps: { store, queue, runtimes } }) => {
    const sent = await dispatchReconciles(store, (batch) => queue.send(batch), runtimes);
    metrics.addMetric('reconcilesDispatched', 'Count', sent);
  },
);
