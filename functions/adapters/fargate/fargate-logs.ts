import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LogOptions, Replica, ReplicaLogs } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { waitForMoreLines } from '../log-follow.ts';
import { familyOf } from './task-requests.ts';

/** How often a followed log stream is read again when it has nothing new. */
const FOLLOW_POLL_MS = 1000;

/**
 * A Fargate replica's output, from CloudWatch Logs: the awslogs driver writes each task to the stream
 * `<family>/app/<task id>` of the apps' log group.
 */
export class FargateLogs implements ReplicaLogs {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly logGroup: string,
    private readonly retry: RetryOptions = {},
  ) {}

  async *replicaLogs(replica: Replica, options: LogOptions): AsyncIterable<string> {
    const taskId = replica.id.split('/').pop() ?? replica.id;
    const logStreamName = `${familyOf(replica)}/app/${taskId}`;
    let nextToken: string | undefined;
    let first = true;
    for (;;) {
      const res = await withThrottlingRetry(
        () =>
          this.logs.send(
            new GetLogEventsCommand({
              logGroupName: this.logGroup,
              logStreamName,
              ...(first && options.tail !== undefined
                ? { limit: options.tail, startFromHead: false }
                : { startFromHead: true }),
              ...(options.since ? { startTime: options.since.getTime() } : {}),
              nextToken,
            }),
          ),
        this.retry,
      );
      first = false;
      for (const event of res.events ?? []) {
        yield `${new Date(event.timestamp ?? 0).toISOString()} ${event.message ?? ''}`;
      }
      if (!options.follow || options.signal?.aborted) return;
      if (res.nextForwardToken === nextToken && !(await waitForMoreLines(FOLLOW_POLL_MS, options.signal)))
        return;
      nextToken = res.nextForwardToken;
    }
  }
}
