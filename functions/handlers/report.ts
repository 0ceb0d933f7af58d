import { buildMonthlyReports } from '../jobs/report.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsReportDeps } from '../shared/aws-table-jobs.ts';
import { errorLogger, observed } from './lambda.ts';

/** Time kept back from the Lambda's timeout for the reports already started. */
const FINISH_MS = 60_000;

/**
 * The report Lambda (scheduled): reports of the months not yet final (the month just closed, and any the job
 * missed), filed in the bucket. What it cannot start before its timeout is left to the next run, and counted.
 */
export const handler = await observed(
  'report',
  ({ logger }) => awsReportDeps(readAwsRuntimeConfig(), errorLogger(logger)),
  async (_event: unknown, { logger, metrics, deps }, context) => {
    const run = await buildMonthlyReports(deps, {
      deadlineMs: Date.now() + context.getRemainingTimeInMillis() - FINISH_MS,
    });
    metrics.addMetric('reportsBuilt', 'Count', run.built);
    metrics.addMetric('reportsLeft', 'Count', run.left);
    if (run.left > 0) logger.warn('reports left for the next run', { ...run });
  },
);
