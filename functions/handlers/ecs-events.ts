import type { EventBridgeEvent } from 'aws-lambda';
import { type EcsTaskStateChange, recordTaskEvent } from '../jobs/ecs-task-events.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsTaskEventDeps } from '../shared/aws-table-jobs.ts';
import { observed } from './lambda.ts';

/**
 * ECS Task State Change events (EventBridge rule): task lifetimes and the stops the apps' events tell, order-free and
 * idempotent.
 */
export const handler = await observed(
  'ecs-events',
  () => awsTaskEventDeps(readAwsRuntimeConfig()),
  async (event: EventBridgeEvent<'ECS Task State Change', EcsTaskStateChange>, { metrics, deps }) => {
    const recorded = await recordTaskEvent(deps, event.detail);
    metrics.addMetric('taskLifetimesObserved', 'Count', recorded.lifetime ? 1 : 0);
    metrics.addMetric('taskStopEventsRecorded', 'Count', recorded.stopEvent ? 1 : 0);
  },
);
