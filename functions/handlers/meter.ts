import { meterUsage } from '../jobs/meter.ts';
import { awsMeterDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed } from './lambda.ts';

/** The meter Lambda (on a schedule). */
export const handler = await observed(
  'meter',
  ({ logger }) => awsMeterDeps(readAwsRuntimeConfig(), errorLogger(logger)),
  async (_event: unknown, { metrics, deps }) => {
    const { accrued } = await meterUsage(deps);
    metrics.addMetric('lifetimesAccrued', 'Count', accrued);
  },
);
