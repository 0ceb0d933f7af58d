import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { chunks } from '../../core/chunks.ts';
import type { Metrics, Replica, ReplicaFigure, ReplicaSamples, ReplicaStats } from '../../core/ports.ts';
import { allPages } from '../aws/pages.ts';
import type { RetryOptions } from '../aws/retry.ts';
import { familyOf } from './task-requests.ts';

/** GetMetricData takes at most 500 queries per call. */
const METRIC_QUERIES_PER_CALL = 500;
const MINUTE_SECONDS = 60;
/** Without a window: the latest minute published within the last five (Container Insights lags a minute or two). */
const LATEST_WITHIN_SECONDS = 5 * MINUTE_SECONDS;
const HOUR_SECONDS = 3600;
const DAY_SECONDS = 86_400;

/**
 * The windows figures are averaged over, each one CloudWatch period, in seconds: whole hours past 63 days and 5
 * minutes past 15 (CloudWatch keeps no finer points that far back), none past 455 days (it keeps no points at all).
 * Each period is a query of its own for every figure and task, billed, and read at most once a minute: a fixed few of
 * them keep a client that names every window it can (`17m`, `18m`, …) from making a billed query set of each request.
 */
const PERIODS_SECONDS = [
  ...[1, 2, 5, 10, 15, 30].map((minutes) => minutes * MINUTE_SECONDS),
  ...[1, 2, 3, 6, 12].map((hours) => hours * HOUR_SECONDS),
  ...[1, 2, 3, 7, 15, 30, 63, 90, 180, 365, 455].map((days) => days * DAY_SECONDS),
];

/** The period that averages a window in one point: the first of PERIODS_SECONDS that covers it, or the longest. */
export const periodFor = (windowSeconds: number): number =>
  PERIODS_SECONDS.find((period) => period >= windowSeconds) ?? (PERIODS_SECONDS.at(-1) as number);

const taskIdOf = (arn: string) => arn.split('/').pop() ?? arn;

/** Each figure's Container Insights metric, and the prefix of its query's id. */
const METRICS: Record<ReplicaFigure, { name: string; id: string }> = {
  cpuPercent: { name: 'TaskCpuUtilization', id: 'cpu' },
  memoryPercent: { name: 'TaskMemoryUtilization', id: 'mem' },
  memoryMiB: { name: 'MemoryUtilized', id: 'mu' },
};
const ALL_FIGURES = Object.keys(METRICS) as ReplicaFigure[];

/**
 * The queries of one task, one a figure asked for: CPU and memory used against the task's own reservation, the memory
 * used in MiB. Container Insights publishes a task's own figures only with enhanced observability, and only under the
 * dimensions cluster, task definition family and task id (it publishes none under cluster and task id alone).
 */
function taskQueries(
  cluster: string,
  replica: Replica,
  index: number,
  period: number,
  figures: readonly ReplicaFigure[],
): MetricDataQuery[] {
  const dimensions = [
    { Name: 'ClusterName', Value: cluster },
    { Name: 'TaskDefinitionFamily', Value: familyOf(replica) },
    { Name: 'TaskId', Value: taskIdOf(replica.id) },
  ];
  return figures.map((figure) => ({
    Id: `${METRICS[figure].id}${index}`,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: 'ECS/ContainerInsights',
        MetricName: METRICS[figure].name,
        Dimensions: dimensions,
      },
      Period: period,
      Stat: 'Average',
    },
  }));
}

/** A task's figures read this minute for one period: each a value, or null where CloudWatch had none. */
type ReadFigures = Partial<Record<ReplicaFigure, number | null>>;

/**
 * The Metrics port on CloudWatch: Container Insights' per-task CPU and memory against the task's own reservation
 * (the cluster runs Container Insights with enhanced observability), averaged over the window asked for or else the
 * latest minute, in as few GetMetricData calls as the 500-query limit allows. Each query is billed (0.01 USD a
 * thousand), so only the figures asked for are queried — the scale job asks for what the app tracks, a third of all
 * three when it tracks CPU alone — and each figure of a task is read once a minute for each period: a client that
 * polls its app's instances or metrics every few seconds would otherwise have CloudWatch asked as often for points
 * published once a minute.
 */
export class FargateMetrics implements Metrics {
  /** What this minute's queries read, by period and task. */
  private read = { end: 0, figures: new Map<string, ReadFigures>() };

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly cluster: string,
    private readonly now: () => Date = () => new Date(),
    private readonly retry: RetryOptions = {},
  ) {}

  async replicaStats<F extends ReplicaFigure = ReplicaFigure>(
    replicas: Replica[],
    windowSeconds?: number,
    asked?: readonly F[],
  ): Promise<ReplicaSamples<F>> {
    const wanted: readonly ReplicaFigure[] = ALL_FIGURES.filter(
      (figure) => !asked || asked.includes(figure as F),
    );
    const period = windowSeconds ? periodFor(windowSeconds) : MINUTE_SECONDS;
    // Whole minutes, so that a window is one period of CloudWatch's and so one point.
    const end = Math.floor(this.now().getTime() / 60_000) * 60_000;
    const start = end - (windowSeconds ? period : LATEST_WITHIN_SECONDS) * 1000;
    if (this.read.end !== end) this.read = { end, figures: new Map() };
    const { figures } = this.read;
    const keyOf = (replica: Replica) => `${period} ${replica.id}`;
    // The tasks by the figures of theirs not read yet (all alike but for tasks first seen since, or asked for less).
    const unread = new Map<string, { missing: ReplicaFigure[]; tasks: Replica[] }>();
    for (const replica of replicas) {
      const read = figures.get(keyOf(replica)) ?? {};
      const missing = wanted.filter((figure) => !(figure in read));
      if (!missing.length) continue;
      const group = unread.get(missing.join()) ?? { missing, tasks: [] };
      group.tasks.push(replica);
      unread.set(missing.join(), group);
    }
    for (const { missing, tasks } of unread.values()) {
      for (const batch of chunks(tasks, Math.floor(METRIC_QUERIES_PER_CALL / missing.length))) {
        const values = await this.latestValues(
          batch.flatMap((replica, i) => taskQueries(this.cluster, replica, i, period, missing)),
          start,
          end,
        );
        batch.forEach((replica, i) => {
          const read = figures.get(keyOf(replica)) ?? {};
          for (const figure of missing) read[figure] = values.get(`${METRICS[figure].id}${i}`) ?? null;
          figures.set(keyOf(replica), read);
        });
      }
    }
    const stats = new Map(
      replicas.flatMap((replica) => {
        const read = taskFigures(figures.get(keyOf(replica)) ?? {}, wanted);
        return read ? [[replica.id, read as Pick<ReplicaStats, F>] as const] : [];
      }),
    );
    return { windowSeconds: period, stats };
  }

  /** Each query's latest value (by its id) from `start` to `end`, every page of the answer read. */
  private async latestValues(queries: MetricDataQuery[], start: number, end: number) {
    const values = new Map<string, number>();
    const pages = allPages(
      (NextToken) =>
        this.cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
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
    return values;
  }
}

/**
 * A task's `wanted` figures as read; undefined until CloudWatch has its utilisations (the memory used in MiB alone may
 * be missing, and reads 0). Utilisations above 100 % (a burst past the reservation) read 100.
 */
function taskFigures(read: ReadFigures, wanted: readonly ReplicaFigure[]): Partial<ReplicaStats> | undefined {
  const stats: Partial<ReplicaStats> = {};
  for (const figure of wanted) {
    const value = read[figure];
    if (figure === 'memoryMiB') stats.memoryMiB = value ?? 0;
    else if (value === undefined || value === null) return undefined;
    else stats[figure] = Math.min(100, value);
  }
  return stats;
}
