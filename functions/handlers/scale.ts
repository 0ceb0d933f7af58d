import { autoscale } from '../jobs/autoscale.ts';
import { awsScaleDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

let deps: ReturnType<typeof awsScaleDeps> | undefined;

/** The autoscaler Lambda (on a schedule). */
export const handler = observed('scale', async (_event: unknown, { logger, metrics }) => {
  deps ??= awsScaleDeps(readAwsRuntimeConfig(), errorLogger(logger));
  const scaleDeps = await deps;
  metrics.addMetric('appsScaled', 'Count', await thenFlush(scaleDeps.queue, () => autoscale(scaleDeps)));
});
