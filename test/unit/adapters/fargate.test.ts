import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { FargateLogs } from '../../../functions/adapters/fargate/fargate-logs.ts';
import { FargateMetrics } from '../../../functions/adapters/fargate/fargate-metrics.ts';
import { FargateRuntime } from '../../../functions/adapters/fargate/fargate-runtime.ts';
import { clientTokenOf, type FargateSettings } from '../../../functions/adapters/fargate/task-requests.ts';
import type { Replica, ReplicaSpec } from '../../../functions/core/ports.ts';

const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
const settings: FargateSettings = {
  cluster: 'berth',
  subnets: ['subnet-a', 'subnet-b'],
  securityGroups: ['sg-apps'],
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/nothing',
  logGroup: '/berth/apps',
  region: 'eu-west-1',
};
const spec: ReplicaSpec = {
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_0123456789abcdef',
  revision: 3,
  generation: 7,
  slot: 1,
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/acme/web@sha256:abc',
  cpu: 0.5,
  memory: 1024,
  port: 8080,
  command: ['node', 'server.js'],
  env: { LOG_LEVEL: 'info' },
};
const noWait = { sleep: async () => undefined };
const runtime = () => new FargateRuntime(new ECSClient({}), settings, noWait);

const task = (n: number, extra: Partial<Task> = {}): Task => ({
  taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/berth/t${n}`,
  lastStatus: 'RUNNING',
  cpu: '512',
  memory: '1024',
  pullStartedAt: new Date('2026-11-22T10:00:00Z'),
  startedAt: new Date('2026-11-22T10:00:20Z'),
  createdAt: new Date('2026-11-22T09:59:59Z'),
  containers: [{ networkInterfaces: [{ privateIpv4Address: `10.64.32.${n % 250}` }] }],
  tags: [
    { key: 'berth:tenant', value: 'acme' },
    { key: 'berth:app', value: 'web' },
    { key: 'berth:app-uid', value: n % 2 ? 'app_other' : 'app_0123456789abcdef' },
    { key: 'berth:revision', value: '3' },
    { key: 'berth:generation', value: '7' },
    { key: 'berth:slot', value: String(n) },
    { key: 'berth:port', value: '8080' },
  ],
  ...extra,
});

describe('FargateRuntime', () => {
  beforeEach(() => {
    ecs.reset();
    cloudwatch.reset();
  });

  it('registers one task definition per revision and runs the task with a replica-derived client token', async () => {
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:td:1' } });
    ecs.on(RunTaskCommand).resolves({ tasks: [task(2, { lastStatus: 'PROVISIONING' })] });
    const replica = await runtime().startReplica(spec);
    expect(replica).toMatchObject({
      state: 'pending',
      tenantId: 'acme',
      revision: 3,
      cpu: 0.5,
      memoryMiB: 1024,
    });
    expect(ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: 'berth-acme-web-89abcdef',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      taskRoleArn: settings.taskRoleArn,
      containerDefinitions: [
        expect.objectContaining({
          image: spec.image,
          command: ['node', 'server.js'],
          linuxParameters: { initProcessEnabled: true },
          portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
          logConfiguration: expect.objectContaining({
            logDriver: 'awslogs',
            options: expect.objectContaining({ mode: 'non-blocking', 'awslogs-group': '/berth/apps' }),
          }),
        }),
      ],
      tags: expect.arrayContaining([{ key: 'berth:revision', value: '3' }]),
    });
    const token = clientTokenOf(spec);
    expect(token).toHaveLength(64);
    expect(clientTokenOf({ ...spec })).toBe(token);
    expect(clientTokenOf({ ...spec, slot: 2 })).not.toBe(token);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, {
      cluster: 'berth',
      taskDefinition: 'arn:td:1',
      launchType: 'FARGATE',
      startedBy: 'berth',
      clientToken: token,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-apps'],
          assignPublicIp: 'DISABLED',
        },
      },
      tags: expect.arrayContaining([
        { key: 'berth:slot', value: '1' },
        { key: 'berth:generation', value: '7' },
      ]),
    });
  });

  it('reuses the revision’s task definition', async () => {
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: ['arn:td:9'] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { containerDefinitions: [{ image: spec.image }] },
      tags: [{ key: 'berth:revision', value: '3' }],
    });
    ecs.on(RunTaskCommand).resolves({ tasks: [task(2)] });
    await runtime().startReplica(spec);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, { taskDefinition: 'arn:td:9' });
  });

  it('turns an ECS start failure into an error', async () => {
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:td:1' } });
    ecs.on(RunTaskCommand).resolves({ failures: [{ reason: 'RESOURCE:ENI', detail: 'no ENIs left' }] });
    await expect(runtime().startReplica(spec)).rejects.toThrow('RESOURCE:ENI');
  });

  it('observes by tag with paged ListTasks and DescribeTasks in batches of at most 100, retrying throttling', async () => {
    const arns = Array.from({ length: 250 }, (_, i) => task(i).taskArn ?? '');
    ecs
      .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: 'p2' })
      .resolvesOnce({ taskArns: arns.slice(100, 200), nextToken: 'p3' })
      .resolvesOnce({ taskArns: arns.slice(200) });
    ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    ecs
      .on(DescribeTasksCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .callsFake((input: { tasks: string[] }) => ({
        tasks: input.tasks.map((arn) => task(Number(arn.split('/t').pop()))),
      }));
    const replicas = await runtime().listReplicas({ appUid: 'app_0123456789abcdef' });
    expect(replicas).toHaveLength(125);
    expect(replicas[0]).toMatchObject({
      state: 'running',
      startedAt: '2026-11-22T10:00:00.000Z', // from the image pull, as Fargate bills
      endpoint: { host: '10.64.32.0', port: 8080 },
    });
    const describeCalls = ecs
      .commandCalls(DescribeTasksCommand)
      .map((c) => c.args[0].input.tasks?.length ?? 0);
    expect(Math.max(...describeCalls)).toBeLessThanOrEqual(100);
    expect(describeCalls.reduce((a, b) => a + b, 0)).toBe(250 + 100); // one batch retried
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, { startedBy: 'berth', cluster: 'berth' });
  });

  it('reports a stopped task with its stop time and exit code', async () => {
    ecs.on(StopTaskCommand).resolves({
      task: task(2, {
        lastStatus: 'STOPPED',
        stoppedAt: new Date('2026-11-22T11:00:00Z'),
        containers: [{ exitCode: 137 }],
      }),
    });
    expect(await runtime().stopReplica('arn:t2', 10)).toMatchObject({
      state: 'exited',
      stoppedAt: '2026-11-22T11:00:00.000Z',
      exitCode: 137,
      endpoint: null,
    });
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'berth', task: 'arn:t2' });
  });
});

describe('FargateMetrics', () => {
  it('asks GetMetricData for at most 500 queries a call and reads utilisation against the reservation', async () => {
    cloudwatch.reset();
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.filter((q) => /^(cpu|mem|mu)\d+$/.test(q.Id)).map((q) => ({
        Id: q.Id,
        Values: [q.Id.startsWith('cpu') ? 140 : q.Id.startsWith('mem') ? 25 : 256],
      })),
    }));
    const ids = Array.from({ length: 200 }, (_, i) => `arn:aws:ecs:eu-west-1:1:task/berth/t${i}`);
    const stats = await new FargateMetrics(
      new CloudWatchClient({}),
      'berth',
      () => new Date('2026-11-22T10:00:00Z'),
    ).replicaStats(ids);
    expect(stats.size).toBe(200);
    expect(stats.get(ids[0] ?? '')).toEqual({ cpuPercent: 100, memoryPercent: 25, memoryMiB: 256 });
    const sizes = cloudwatch
      .commandCalls(GetMetricDataCommand)
      .map((c) => c.args[0].input.MetricDataQueries?.length ?? 0);
    expect(sizes).toEqual([498, 498, 204]);
    expect(cloudwatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      MetricDataQueries: expect.arrayContaining([
        expect.objectContaining({
          Id: 'cu0',
          MetricStat: expect.objectContaining({
            Metric: {
              Namespace: 'ECS/ContainerInsights',
              MetricName: 'CpuUtilized',
              Dimensions: [
                { Name: 'ClusterName', Value: 'berth' },
                { Name: 'TaskId', Value: 't0' },
              ],
            },
          }),
        }),
      ]),
    });
  });
});

describe('FargateLogs', () => {
  beforeEach(() => logs.reset());
  const replica = {
    id: 'arn:aws:ecs:eu-west-1:123456789012:task/berth/0f1e2d3c',
    tenantId: 'acme',
    app: 'web',
    appUid: 'app_0123456789abcdef',
  } as Replica;

  it('reads the task’s own stream of the apps’ log group, the tail first, throttling retried', async () => {
    logs
      .on(GetLogEventsCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves({ events: [{ timestamp: Date.parse('2026-11-22T10:00:00Z'), message: 'listening' }] });
    const lines: string[] = [];
    for await (const line of new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps', noWait).replicaLogs(
      replica,
      { tail: 50 },
    ))
      lines.push(line);
    expect(lines).toEqual(['2026-11-22T10:00:00.000Z listening']);
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 2);
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: '/berth/apps',
      logStreamName: 'berth-acme-web-89abcdef/app/0f1e2d3c',
      limit: 50,
      startFromHead: false,
    });
  });

  it('follows with the forward token until the signal aborts', async () => {
    const abort = new AbortController();
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ timestamp: 0, message: 'a' }], nextForwardToken: 'f1' })
      .resolvesOnce({ events: [{ timestamp: 0, message: 'b' }], nextForwardToken: 'f2' });
    const lines: string[] = [];
    for await (const line of new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps').replicaLogs(
      replica,
      {
        follow: true,
        signal: abort.signal,
      },
    )) {
      lines.push(line);
      if (lines.length === 2) abort.abort();
    }
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['a', 'b']);
    expect(logs.commandCalls(GetLogEventsCommand)[1]?.args[0].input.nextToken).toBe('f1');
  });
});
