import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { chunks } from '../../core/chunks.ts';
import type { Metrics, Replica, ReplicaStats } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { familyOf } from './task-requests.ts';

/** GetMetricData takes at most 500 queries per call. */
const METRIC_QUERIES_PER_CALL = 500;
const QUERIES_PER_TASK = 3;
const PERIOD_SECONDS = 60;
const WINDOW_MS = 5 * 60_000;

const taskIdOf = (arn: string) => arn.split('/').pop() ?? arn;

/**
 * The three queries of one task: CPU and memory used against the task's own reservation, and the memory used, in
 * MiB. Container Insights publishes a task's own figures only with enhanced observability, and only under the
 * dimensions cluster, task definition family and task id (it publishes none under cluster and task id alone).
 */
export function taskQueries(cluster: string, replica: Replica, index: number): MetricDataQuery[] {
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
      Period: PERIOD_SECONDS,
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
 * (the cluster runs Container Insights with enhanced observability), the latest minute, in as few GetMetricData
 * calls as the 500-query limit allows.
 */
export class FargateMetrics implements Metrics {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly cluster: string,
    private readonly now: () => Date = () => new Date(),
    private readonly retry: RetryOptions = {},
  ) {}

  async replicaStats(replicas: Replica[]): Promise<Map<string, ReplicaStats>> {
    const perCall = Math.floor(METRIC_QUERIES_PER_CALL / QUERIES_PER_TASK);
    const stats = new Map<string, ReplicaStats>();
    for (const batch of chunks(replicas, perCall)) {
      const end = this.now();
      const values = new Map<string, number>();
      let nextToken: string | undefined;
      do {
        const res = await withThrottlingRetry(
          () =>
            this.cloudwatch.send(
              new GetMetricDataCommand({
                MetricDataQueries: batch.flatMap((replica, i) => taskQueries(this.cluster, replica, i)),
                StartTime: new Date(end.getTime() - WINDOW_MS),
                EndTime: end,
                ScanBy: 'TimestampDescending',
                NextToken: nextToken,
              }),
            ),
          this.retry,
        );
        for (const result of res.MetricDataResults ?? []) {
          const latest = result.Values?.[0];
          if (result.Id && latest !== undefined && !values.has(result.Id)) values.set(result.Id, latest);
        }
        nextToken = res.NextToken;
      } while (nextToken);
      batch.forEach((replica, i) => {
        const cpu = values.get(`cpu${i}`);
        const memory = values.get(`mem${i}`);
        if (cpu === undefined || memory === undefined) return;
        stats.set(replica.id, {
          cpuPercent: Math.min(100, cpu),
          memoryPercent: Math.min(100, memory),
          memoryMiB: values.get(`mu${i}`) ?? 0,
        });
      });
    }
    return stats;
  }
}
