import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { Replica, ReplicaSpec, Runtime } from '../../core/ports.ts';
import { chunks } from '../aws/chunks.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import {
  type FargateSettings,
  familyOf,
  replicaOf,
  runTaskInput,
  STARTED_BY,
  TAGS,
  taskDefinitionInput,
} from './task-requests.ts';

/** DescribeTasks takes at most this many tasks per call. */
const DESCRIBE_TASKS_BATCH = 100;

/**
 * The Runtime on ECS Fargate: a replica is a task, started by the reconciler with RunTask (idempotent through a
 * client token derived from the replica), observed with batched ListTasks/DescribeTasks by tag, stopped with StopTask.
 */
export class FargateRuntime implements Runtime {
  constructor(
    private readonly ecs: ECSClient,
    private readonly settings: FargateSettings,
    private readonly retry: RetryOptions = {},
  ) {}

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.retry);
  }

  private async taskArns(desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(() =>
        this.ecs.send(
          new ListTasksCommand({
            cluster: this.settings.cluster,
            startedBy: STARTED_BY,
            desiredStatus,
            maxResults: 100,
            nextToken,
          }),
        ),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  private async describe(arns: string[]): Promise<Task[]> {
    const described = await Promise.all(
      chunks(arns, DESCRIBE_TASKS_BATCH).map((tasks) =>
        this.call(() =>
          this.ecs.send(
            new DescribeTasksCommand({ cluster: this.settings.cluster, tasks, include: ['TAGS'] }),
          ),
        ),
      ),
    );
    return described.flatMap((res) => res.tasks ?? []);
  }

  async listReplicas(filter: { tenantId?: string; appUid?: string } = {}): Promise<Replica[]> {
    const arns = [...(await this.taskArns('RUNNING')), ...(await this.taskArns('STOPPED'))];
    return (await this.describe([...new Set(arns)]))
      .map(replicaOf)
      .filter((r): r is Replica => r !== undefined)
      .filter(
        (r) =>
          (!filter.tenantId || r.tenantId === filter.tenantId) &&
          (!filter.appUid || r.appUid === filter.appUid),
      );
  }

  /** The task definition of the spec's revision: the family's latest when it is that revision's, else a new one. */
  private async taskDefinitionArn(spec: ReplicaSpec): Promise<string> {
    const family = familyOf(spec);
    const latest = await this.call(() =>
      this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, sort: 'DESC', maxResults: 1 })),
    );
    const arn = latest.taskDefinitionArns?.[0];
    if (arn) {
      const current = await this.call(() =>
        this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })),
      );
      const revision = current.tags?.find((t) => t.key === TAGS.revision)?.value;
      const image = current.taskDefinition?.containerDefinitions?.[0]?.image;
      if (revision === String(spec.revision) && image === spec.image) return arn;
    }
    const registered = await this.call(() =>
      this.ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(spec, this.settings))),
    );
    const registeredArn = registered.taskDefinition?.taskDefinitionArn;
    if (!registeredArn) throw new Error(`ECS registered no task definition for ${family}`);
    return registeredArn;
  }

  async startReplica(spec: ReplicaSpec): Promise<Replica> {
    const taskDefinition = await this.taskDefinitionArn(spec);
    const res = await this.call(() =>
      this.ecs.send(new RunTaskCommand(runTaskInput(spec, taskDefinition, this.settings))),
    );
    const failure = res.failures?.[0];
    if (failure)
      throw new Error(
        `ECS could not start the task: ${failure.reason ?? 'unknown'} ${failure.detail ?? ''}`.trim(),
      );
    const replica = res.tasks?.[0] && replicaOf(res.tasks[0]);
    if (!replica) throw new Error('ECS started no task');
    return replica;
  }

  async stopReplica(id: string, _graceSeconds: number): Promise<Replica | undefined> {
    // The grace period is the task definition's stopTimeout on Fargate; the stop time arrives with the task event.
    try {
      const res = await this.call(() =>
        this.ecs.send(
          new StopTaskCommand({ cluster: this.settings.cluster, task: id, reason: 'stopped by Berth' }),
        ),
      );
      return res.task ? replicaOf(res.task) : undefined;
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidParameterException') return undefined; // already gone
      throw err;
    }
  }

  /** ECS removes stopped tasks itself. */
  async removeReplica(_id: string): Promise<void> {}
}
