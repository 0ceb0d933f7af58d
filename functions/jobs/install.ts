import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { seedPlans } from '../core/plans.ts';
import type { CoreDeps } from '../core/ports.ts';

/** One resource for the life of the stack: an update never makes CloudFormation replace (and delete) it. */
export const INSTALL_RESOURCE_ID = 'berth-install';

/** What CloudFormation is told of a custom resource's event, and where: its pre-signed S3 URL. */
export interface CloudFormationAnswer {
  url: URL;
  body: {
    Status: 'SUCCESS' | 'FAILED';
    Reason?: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
  };
}

/**
 * The install's custom resource: when the stack is created, the plans every installation starts with (API.md:
 * `free` and `pro`, as local mode seeds them), unless they exist. Updates and deletion leave plans alone: from
 * then on they are the platform team's, and the table outlives this stack. A failure is answered, not thrown, so
 * CloudFormation rolls back at once instead of waiting an hour for an answer.
 */
export async function installEvent(
  deps: Pick<CoreDeps, 'store' | 'clock'>,
  event: CloudFormationCustomResourceEvent,
  log: { error(message: string, details: Record<string, unknown>): void },
): Promise<CloudFormationAnswer> {
  const url = cloudFormationUrl(event.ResponseURL);
  const answer = {
    PhysicalResourceId: INSTALL_RESOURCE_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  try {
    if (event.RequestType === 'Create') await seedPlans(deps);
    return { url, body: { Status: 'SUCCESS', ...answer } };
  } catch (err) {
    log.error('install failed', { error: err, requestType: event.RequestType });
    const reason = err instanceof Error ? err.message : String(err);
    return {
      url,
      body: { Status: 'FAILED', Reason: `Berth's install failed: ${reason}`.slice(0, 1000), ...answer },
    };
  }
}

/** CloudFormation answers only at its own pre-signed HTTPS URLs on amazonaws.com: nothing else is ever called. */
function cloudFormationUrl(text: string): URL {
  const url = new URL(text);
  if (url.protocol !== 'https:' || !/\.amazonaws\.com(\.cn)?$/.test(url.hostname)) {
    throw new Error(`not a CloudFormation response URL: ${url.protocol}//${url.hostname}`);
  }
  return url;
}
