import { autoscale } from '../jobs/autoscale.ts';
import { awsScaleDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

/** The autoscaler Lambda (on a schedule). */
export const handler = await observed(
  'scale',
  ({ logger }) => awsScaleDeps(readAwsRuntimeConfig(), errorLogger(logger)),
  async (_event: unknown, { metrics, deps }) => {
    const run = await thenFlush(deps.queue, () => autoscale(deps));
    metrics.addMetric('appsScaled', 'Count', run.scaled);
    metrics.addMetric('appsNotScaled', 'Count', run.failed);
  },
);
