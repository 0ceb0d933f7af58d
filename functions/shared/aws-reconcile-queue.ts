import { SQSClient } from '@aws-sdk/client-sqs';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import type { AwsConfig } from './aws-config.ts';
import type { Logger } from './aws-core.ts';

/*
 * The reconcile queue over SQS, in a module of its own: the jobs import it, the API imports it at its first nudge
 * (aws-api.ts), so a cold start that only reads loads no SQS client.
 */

export function reconcileQueue(config: AwsConfig, logger: Logger): ReconcileQueue {
  return new ReconcileQueue(new SQSClient(sdkClientConfig()), config.BERTH_RECONCILE_QUEUE_URL, logger);
}
