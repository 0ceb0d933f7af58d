import { buildMonthlyReports } from '../jobs/report.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsReportDeps } from '../shared/aws-table-jobs.ts';
import { observed } from './lambda.ts';

/** The report Lambda (monthly schedule): final reports of the month just closed, filed in the bucket. */
export const handler = await observed(
  'report',
  () => awsReportDeps(readAwsRuntimeConfig()),
  async (_event: unknown, { metrics, deps }) => {
    metrics.addMetric('reportsBuilt', 'Count', await buildMonthlyReports(deps));
  },
);
