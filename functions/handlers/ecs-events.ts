import type { EventBridgeEvent } from 'aws-lambda';
import { type EcsTaskStateChange, recordTaskEvent } from '../jobs/ecs-task-events.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsMeterStore } from '../shared/aws-table-jobs.ts';
import { observed } from './lambda.ts';

/** ECS Task State Change events (EventBridge rule): task lifetimes, order-free and idempotent. */
export const handler = await observed(
  'ecs-events',
  () => awsMeterStore(readAwsRuntimeConfig()),
  async (event: EventBridgeEvent<'ECS Task State Change', EcsTaskStateChange>, { metrics, deps: meter }) => {
    metrics.addMetric('taskLifetimesObserved', 'Count', (await recordTaskEvent(meter, event.detail)) ? 1 : 0);
  },
);
