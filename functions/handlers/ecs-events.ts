import type { EventBridgeEvent } from 'aws-lambda';
import { type EcsTaskStateChange, recordTaskEvent } from '../jobs/ecs-task-events.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { awsMeterStore } from '../shared/aws-table-jobs.ts';
import { observed } from './lambda.ts';

let meter: ReturnType<typeof awsMeterStore> | undefined;

/** ECS Task State Change events (EventBridge rule): task lifetimes, order-free and idempotent. */
export const handler = observed(
  'ecs-events',
  async (event: EventBridgeEvent<'ECS Task State Change', EcsTaskStateChange>) => {
    meter ??= awsMeterStore(readAwsRuntimeConfig());
    await recordTaskEvent(meter, event.detail);
  },
);
