import { buildMonthlyReports } from '../jobs/report.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsReportDeps } from '../shared/aws-table-jobs.ts';
import { observed } from './lambda.ts';

let deps: ReturnType<typeof awsReportDeps> | undefined;

/** The report Lambda (monthly schedule): final reports of the month just closed, filed in the bucket. */
export const handler = observed('report', async (_event: unknown, { metrics }) => {
  deps ??= awsReportDeps(readAwsRuntimeConfig());
  metrics.addMetric('reportsBuilt', 'Count', await buildMonthlyReports(deps));
});
