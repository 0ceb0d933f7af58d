import { DescribeTasksCommand, type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import type { Replica, ReplicaFilter, Runtime } from '../../core/ports.ts';
import { inBatches } from '../aws/chunks.ts';
import { allPages } from '../aws/pages.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { familyOf, replicaOf } from './task-requests.ts';

/** DescribeTasks takes at most this many tasks per call. */
const DESCRIBE_TASKS_BATCH = 100;

/**
 * The tasks of Berth's cluster as replicas: paged ListTasks, DescribeTasks in hundreds with their tags. What the
 * meter, the autoscaler and the API read; the services adapter observes through it too.
 */
export class FargateTasks implements Pick<Runtime, 'listReplicas'> {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cluster: string,
    private readonly retry: RetryOptions = {},
  ) {}

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.retry);
  }

  /**
   * The tasks of Berth's apps in the cluster, running or recently stopped: an app's by its task-definition family
   * when the filter names it, else all of them.
   */
  async listReplicas(filter: ReplicaFilter = {}): Promise<Replica[]> {
    const { tenantId, app, appUid } = filter;
    const family = tenantId && app && appUid ? { family: familyOf({ tenantId, app, appUid }) } : {};
    const arns = [
      ...(await this.list({ desiredStatus: 'RUNNING', ...family })),
      ...(await this.list({ desiredStatus: 'STOPPED', ...family })),
    ];
    return (await this.describe([...new Set(arns)]))
      .map(replicaOf)
      .filter((r): r is Replica => r !== undefined)
      .filter(
        (r) =>
          (!filter.tenantId || r.tenantId === filter.tenantId) &&
          (!filter.appUid || r.appUid === filter.appUid),
      );
  }

  async list(filter: {
    serviceName?: string;
    family?: string;
    desiredStatus: 'RUNNING' | 'STOPPED';
  }): Promise<string[]> {
    const arns: string[] = [];
    const pages = allPages(
      (nextToken) =>
        this.ecs.send(new ListTasksCommand({ cluster: this.cluster, ...filter, maxResults: 100, nextToken })),
      (page) => page.nextToken,
      this.retry,
    );
    for await (const page of pages) arns.push(...(page.taskArns ?? []));
    return arns;
  }

  async describe(arns: string[]): Promise<Task[]> {
    return inBatches(arns, DESCRIBE_TASKS_BATCH, async (tasks) => {
      const res = await this.call(() =>
        this.ecs.send(new DescribeTasksCommand({ cluster: this.cluster, tasks, include: ['TAGS'] })),
      );
      return res.tasks ?? [];
    });
  }
}
