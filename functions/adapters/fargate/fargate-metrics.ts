import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { chunks } from '../../core/chunks.ts';
import type { Metrics, Replica, ReplicaSamples, ReplicaStats } from '../../core/ports.ts';
import { allPages } from '../aws/pages.ts';
import type { RetryOptions } from '../aws/retry.ts';
import { familyOf } from './task-requests.ts';

/** GetMetricData takes at most 500 queries per call. */
const METRIC_QUERIES_PER_CALL = 500;
const QUERIES_PER_TASK = 3;
const MINUTE_SECONDS = 60;
/** Without a window: the latest minute published within the last five (Container Insights lags a minute or two). */
const LATEST_WITHIN_SECONDS = 5 * MINUTE_SECONDS;
const DAY_SECONDS = 86_400;

/** How far back CloudWatch keeps any point: 15 months. */
const RETENTION_SECONDS = 455 * DAY_SECONDS;

/**
 * The period that averages a window in one point: a whole number of minutes, or of 5 minutes past 15 days and of
 * hours past 63 (CloudWatch keeps no finer points that far back), and no longer than CloudWatch keeps points at all.
 */
export function periodFor(windowSeconds: number): number {
  const window = Math.min(windowSeconds, RETENTION_SECONDS);
  const step = window > 63 * DAY_SECONDS ? 3600 : window > 15 * DAY_SECONDS ? 300 : MINUTE_SECONDS;
  return Math.max(1, Math.ceil(window / step)) * step;
}

const taskIdOf = (arn: string) => arn.split('/').pop() ?? arn;

/**
 * The three queries of one task: CPU and memory used against the task's own reservation, and the memory used, in
 * MiB. Container Insights publishes a task's own figures only with enhanced observability, and only under the
 * dimensions cluster, task definition family and task id (it publishes none under cluster and task id alone).
 */
function taskQueries(cluster: string, replica: Replica, index: number, period: number): MetricDataQuery[] {
  const dimensions = [
    { Name: 'ClusterName', Value: cluster },
    { Name: 'TaskDefinitionFamily', Value: familyOf(replica) },
    { Name: 'TaskId', Value: taskIdOf(replica.id) },
  ];
  const metric = (id: string, name: string): MetricDataQuery => ({
    Id: `${id}${index}`,
    ReturnData: true,
    MetricStat: {
      Metric: { Namespace: 'ECS/ContainerInsights', MetricName: name, Dimensions: dimensions },
      Period: period,
      Stat: 'Average',
    },
  });
  return [
    metric('cpu', 'TaskCpuUtilization'),
    metric('mem', 'TaskMemoryUtilization'),
    metric('mu', 'MemoryUtilized'),
  ];
}

/**
 * The Metrics port on CloudWatch: Container Insights' per-task CPU and memory against the task's own reservation
 * (the cluster runs Container Insights with enhanced observability), averaged over the window asked for or else the
 * latest minute, in as few GetMetricData calls as the 500-query limit allows. A task's figures are read once a minute
 * for each period: each query is billed (three a task), and a client that polls its app's instances or metrics every
 * few seconds would otherwise have CloudWatch asked as often for points published once a minute.
 */
export class FargateMetrics implements Metrics {
  /** What this minute's queries read, by period and task (null: no figures yet). */
  private read = { end: 0, figures: new Map<string, ReplicaStats | null>() };

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly cluster: string,
    private readonly now: () => Date = () => new Date(),
    private readonly retry: RetryOptions = {},
  ) {}

  async replicaStats(replicas: Replica[], windowSeconds?: number): Promise<ReplicaSamples> {
    const period = windowSeconds ? periodFor(windowSeconds) : MINUTE_SECONDS;
    // Whole minutes, so that a window is one period of CloudWatch's and so one point.
    const end = Math.floor(this.now().getTime() / 60_000) * 60_000;
    const start = end - (windowSeconds ? period : LATEST_WITHIN_SECONDS) * 1000;
    const perCall = Math.floor(METRIC_QUERIES_PER_CALL / QUERIES_PER_TASK);
    if (this.read.end !== end) this.read = { end, figures: new Map() };
    const { figures } = this.read;
    const keyOf = (replica: Replica) => `${period} ${replica.id}`;
    const unread = replicas.filter((replica) => !figures.has(keyOf(replica)));
    for (const batch of chunks(unread, perCall)) {
      const values = new Map<string, number>();
      const pages = allPages(
        (NextToken) =>
          this.cloudwatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: batch.flatMap((replica, i) => taskQueries(this.cluster, replica, i, period)),
              StartTime: new Date(start),
              EndTime: new Date(end),
              ScanBy: 'TimestampDescending',
              NextToken,
            }),
          ),
        (page) => page.NextToken,
        this.retry,
      );
      for await (const res of pages) {
        for (const result of res.MetricDataResults ?? []) {
          const latest = result.Values?.[0];
          if (result.Id && latest !== undefined && !values.has(result.Id)) values.set(result.Id, latest);
        }
      }
      batch.forEach((replica, i) => {
        const cpu = values.get(`cpu${i}`);
        const memory = values.get(`mem${i}`);
        figures.set(
          keyOf(replica),
          cpu === undefined || memory === undefined
            ? null
            : {
                cpuPercent: Math.min(100, cpu),
                memoryPercent: Math.min(100, memory),
                memoryMiB: values.get(`mu${i}`) ?? 0,
              },
        );
      });
    }
    const stats = new Map(
      replicas.flatMap((replica) => {
        const read = figures.get(keyOf(replica));
        return read ? [[replica.id, read] as const] : [];
      }),
    );
    return { windowSeconds: period, stats };
  }
}
