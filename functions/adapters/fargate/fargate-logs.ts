import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { waitUnlessAborted } from '../../core/abortable-wait.ts';
import type { LogOptions, Replica, ReplicaLogs } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { familyOf } from './task-requests.ts';

/** How often a followed log stream is read again when it has nothing new. */
const FOLLOW_POLL_MS = 1000;

/**
 * How long after its task stopped a stream may still get lines: the awslogs driver sends what it buffered every 5 s
 * and when the container stops. A follow of a task stopped longer ago ends at the end of its stream, as Docker's does.
 */
export const LAST_LINES_AFTER_STOP_MS = 15_000;

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
    const { tail, since, follow, signal } = options;
    if (tail === 0 && !follow) return;
    const taskId = replica.id.split('/').pop() ?? replica.id;
    const logStreamName = `${familyOf(replica)}/app/${taskId}`;
    const stoppedAt = replica.stoppedAt ? Date.parse(replica.stoppedAt) : undefined;
    const noMoreLines = () => stoppedAt !== undefined && Date.now() - stoppedAt >= LAST_LINES_AFTER_STOP_MS;
    let nextToken: string | undefined;
    let first = true;
    for (;;) {
      // A tail is one read backwards from the end. GetLogEvents takes a limit of 1 to 10,000, so for no lines at
      // all (tail=0) that read asks for one and drops it: it only finds where the follow goes on from.
      const backwards =
        first && tail !== undefined ? { limit: Math.max(1, tail), startFromHead: false } : undefined;
      first = false;
      const res = await withThrottlingRetry(
        () =>
          this.logs.send(
            new GetLogEventsCommand({
              logGroupName: this.logGroup,
              logStreamName,
              ...(backwards ?? { startFromHead: true }),
              ...(since ? { startTime: since.getTime() } : {}),
              nextToken,
            }),
          ),
        this.retry,
      );
      for (const event of backwards && tail === 0 ? [] : (res.events ?? [])) {
        yield `${new Date(event.timestamp ?? 0).toISOString()} ${event.message ?? ''}`;
      }
      if (signal?.aborted) return;
      // The token passed in comes back at the end of the stream; a page before the end may be empty.
      const atTheEnd = !res.nextForwardToken || res.nextForwardToken === nextToken;
      if ((!follow || noMoreLines()) && (backwards || atTheEnd)) return;
      if (atTheEnd && !(await waitUnlessAborted(FOLLOW_POLL_MS, signal))) return;
      nextToken = res.nextForwardToken ?? nextToken;
    }
  }
}
