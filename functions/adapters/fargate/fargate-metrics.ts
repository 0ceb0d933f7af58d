import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { chunks } from '../../core/chunks.ts';
import type { Metrics, ReplicaStats } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

/** GetMetricData takes at most 500 queries per call. */
const METRIC_QUERIES_PER_CALL = 500;
const QUERIES_PER_TASK = 6;
const PERIOD_SECONDS = 60;
const WINDOW_MS = 5 * 60_000;

const taskIdOf = (arn: string) => arn.split('/').pop() ?? arn;

/** The six queries of one task: CPU and memory used and reserved (Container Insights), and the two ratios. */
export function taskQueries(cluster: string, arn: string, index: number): MetricDataQuery[] {
  const metric = (id: string, name: string, returnData = false): MetricDataQuery => ({
    Id: `${id}${index}`,
    ReturnData: returnData,
    MetricStat: {
      Metric: {
        Namespace: 'ECS/ContainerInsights',
        MetricName: name,
        Dimensions: [
          { Name: 'ClusterName', Value: cluster },
          { Name: 'TaskId', Value: taskIdOf(arn) },
        ],
      },
      Period: PERIOD_SECONDS,
      Stat: 'Average',
    },
  });
  return [
    metric('cu', 'CpuUtilized'),
    metric('cr', 'CpuReserved'),
    metric('mu', 'MemoryUtilized', true),
    metric('mr', 'MemoryReserved'),
    { Id: `cpu${index}`, Expression: `100 * cu${index} / cr${index}`, ReturnData: true },
    { Id: `mem${index}`, Expression: `100 * mu${index} / mr${index}`, ReturnData: true },
  ];
}

/**
 * The Metrics port on CloudWatch: Container Insights' per-task CPU and memory against the task's own reservation,
 * the latest minute, in as few GetMetricData calls as the 500-query limit allows.
 */
export class FargateMetrics implements Metrics {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly cluster: string,
    private readonly now: () => Date = () => new Date(),
    private readonly retry: RetryOptions = {},
  ) {}

  async replicaStats(ids: string[]): Promise<Map<string, ReplicaStats>> {
    const perCall = Math.floor(METRIC_QUERIES_PER_CALL / QUERIES_PER_TASK);
    const stats = new Map<string, ReplicaStats>();
    for (const batch of chunks(ids, perCall)) {
      const end = this.now();
      const values = new Map<string, number>();
      let nextToken: string | undefined;
      do {
        const res = await withThrottlingRetry(
          () =>
            this.cloudwatch.send(
              new GetMetricDataCommand({
                MetricDataQueries: batch.flatMap((arn, i) => taskQueries(this.cluster, arn, i)),
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
      batch.forEach((arn, i) => {
        const cpu = values.get(`cpu${i}`);
        const memory = values.get(`mem${i}`);
        if (cpu === undefined || memory === undefined) return;
        stats.set(arn, {
          cpuPercent: Math.min(100, cpu),
          memoryPercent: Math.min(100, memory),
          memoryMiB: values.get(`mu${i}`) ?? 0,
        });
      });
    }
    return stats;
  }
}
