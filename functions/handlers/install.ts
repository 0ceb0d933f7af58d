import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { installEvent } from '../jobs/install.ts';
import { readAwsTableConfig } from '../shared/aws-config.ts';
import { awsInstallDeps } from '../shared/aws-table-jobs.ts';
import { errorLogger, observed } from './lambda.ts';

/**
 * The install's custom resource (CloudFormation invokes it directly): see `installEvent`. An answer CloudFormation
 * does not get is thrown, so Lambda's retries of the event send it again.
 */
export const handler = await observed(
  'install',
  () => awsInstallDeps(readAwsTableConfig()),
  async (event: CloudFormationCustomResourceEvent, { logger, metrics, deps }) => {
    const { url, body } = await installEvent(deps, event, errorLogger(logger));
    metrics.addMetric(body.Status === 'SUCCESS' ? 'installSucceeded' : 'installFailed', 'Count', 1);
    // The URL is signed without a content type: sending one would break its signature.
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': '' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
  },
);
