import { meterUsage } from '../jobs/meter.ts';
import { awsMeterDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { observed } from './lambda.ts';

let deps: ReturnType<typeof awsMeterDeps> | undefined;

/** The meter Lambda (on a schedule). */
export const handler = observed('meter', async (_event: unknown, { metrics }) => {
  deps ??= awsMeterDeps(readAwsRuntimeConfig());
  const { accrued } = await meterUsage(await deps);
  metrics.addMetric('lifetimesAccrued', 'Count', accrued);
});
