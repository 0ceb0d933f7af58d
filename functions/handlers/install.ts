import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { installEvent } from '../jobs/install.ts';
import { readAwsTableConfig } from '../shared/aws-config.ts';
import { awsInstallDeps } from '../shared/aws-table-jobs.ts';
import { errorLogger, observed } from './lambda.ts';

/** What an invocation keeps of its time, after giving up on CloudFormation's URL, to log why. */
const LOGGING_TIME_MS = 1_000;

/**
 * The install's custom resource (CloudFormation invokes it directly): see `installEvent`. An answer CloudFormation
 * does not get is thrown, so Lambda's retries of the event send it again.
 */
export const handler = await observed(
  'install',
  () => awsInstallDeps(readAwsTableConfig()),
  async (event: CloudFormationCustomResourceEvent, { logger, metrics, deps }, context) => {
    const { url, body } = await installEvent(deps, event, errorLogger(logger));
    metrics.addMetric(body.Status === 'SUCCESS' ? 'installSucceeded' : 'installFailed', 'Count', 1);
    // Given up on with time left to say why, rather than in Lambda's own timeout, which logs only that it ran out.
    const waitMs = Math.max(0, context.getRemainingTimeInMillis() - LOGGING_TIME_MS);
    // The URL is signed without a content type: sending one would break its signature.
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': '' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(waitMs),
    }).catch((err: unknown) => {
      throw new Error(`CloudFormation's response URL did not answer within ${waitMs} ms`, { cause: err });
    });
    if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
  },
);
