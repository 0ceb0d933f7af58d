import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  TagResourceCommand,
  type Task,
  type TaskStopCode,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlbAppRoutes, type AlbAppRoutesSettings } from '../../../functions/adapters/alb/alb-app-routes.ts';
import { FargateLogs, LAST_LINES_AFTER_STOP_MS } from '../../../functions/adapters/fargate/fargate-logs.ts';
import { FargateMetrics, periodFor } from '../../../functions/adapters/fargate/fargate-metrics.ts';
import { FargateServices } from '../../../functions/adapters/fargate/fargate-services.ts';
import {
  clientTokenOf,
  type FargateSettings,
  parseTaskGroup,
  RENDERING,
  serviceNameOf,
} from '../../../functions/adapters/fargate/task-requests.ts';
import type { Replica, WorkloadSpec } from '../../../functions/core/ports.ts';
import { workloadHash } from '../../../functions/core/workloads.ts';
import { SHARD } from '../../support/aws-fixtures.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

const ecs = mockClient(ECSClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
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
const spec: WorkloadSpec = {
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_0123456789abcdef',
  revision: 3,
  generation: 7,
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/acme/web@sha256:abc',
  cpu: 0.5,
  memory: 1024,
  port: 8080,
  command: ['node', 'server.js'],
  env: { LOG_LEVEL: 'info' },
  replicas: 3,
  healthCheck: {
    path: '/healthz',
    intervalSeconds: 10,
    timeoutSeconds: 2,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    gracePeriodSeconds: 30,
  },
  restartedAt: null,
};
const SERVICE = 'berth_acme_web_89abcdef';
const noWait = { sleep: async () => undefined };
const routesSettings = { installation: 'berth', vpcId: 'vpc-1', shards: [SHARD], domain: 'apps.example.com' };
const appRoutes = (changed: Partial<AlbAppRoutesSettings> = {}) =>
  new AlbAppRoutes(new ElasticLoadBalancingV2Client({}), { ...routesSettings, ...changed }, noWait);
const services = () => new FargateServices(new ECSClient({}), appRoutes(), settings, noWait);

const task = (n: number, extra: Partial<Task> = {}): Task => ({
  taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/berth/t${n}`,
  lastStatus: 'RUNNING',
  group: `service:${SERVICE}`,
  cpu: '512',
  memory: '1024',
  pullStartedAt: new Date('2026-11-22T10:00:00Z'),
  startedAt: new Date('2026-11-22T10:00:20Z'),
  createdAt: new Date('2026-11-22T09:59:59Z'),
  containers: [{ networkInterfaces: [{ privateIpv4Address: `10.64.32.${n % 250}` }] }],
  // Propagated from the task definition.
  tags: [
    { key: 'berth:tenant', value: 'acme' },
    { key: 'berth:app', value: 'web' },
    { key: 'berth:app-uid', value: n % 2 ? 'app_other' : 'app_0123456789abcdef' },
    { key: 'berth:revision', value: '3' },
    { key: 'berth:port', value: '8080' },
  ],
  ...extra,
});

const service = (app: string, extra: Partial<Service> = {}): Service => ({
  serviceName: serviceNameOf({ tenantId: 'acme', app, appUid: 'app_0123456789abcdef' }),
  serviceArn: `arn:aws:ecs:eu-west-1:123456789012:service/berth/${app}`,
  status: 'ACTIVE',
  loadBalancers: [{ targetGroupArn: `arn:tg:${app}`, containerName: 'app', containerPort: 8080 }],
  tags: [
    { key: 'berth:app', value: app },
    { key: 'berth:spec-hash', value: `hash-${app}` },
    { key: 'berth:restarted-at', value: '' },
    { key: 'berth:task-definition', value: 'arn:td:3' },
    { key: 'berth:revision', value: '3' },
    { key: 'berth:rendering', value: RENDERING },
    { key: 'berth:route', value: appRoutes().routeOf('acme', app) },
  ],
  deployments: [{ status: 'PRIMARY', taskDefinition: 'arn:td:3', rolloutState: 'IN_PROGRESS' }],
  ...extra,
});

/** The tags of service `web`, with `key`'s value made `value`, or the tag left out without one. */
const tagsWith = (key: string, value: string | undefined) => [
  ...(service('web').tags ?? []).filter((t) => t.key !== key),
  ...(value === undefined ? [] : [{ key, value }]),
];

/** When ECS made the deployment an update starts, as UpdateService answers it here. */
const DEPLOYED_AT = new Date('2026-11-22T10:00:00.000Z');

/** ECS as it answers for an app it has never seen: no task definition revision yet, no service. */
function answerAsForANewApp() {
  ecs
    .on(DescribeTaskDefinitionCommand)
    .rejects(Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' }));
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:td:3' } });
  ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
}

describe('FargateServices', () => {
  beforeEach(() => {
    ecs.reset();
    elb.reset();
    cloudwatch.reset();
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeRulesCommand).resolves({ Rules: [{ Priority: '1' }, { Priority: 'default' }] });
    // As ECS answers an update: the service with its deployments, the one of the task definition given among them.
    ecs.on(UpdateServiceCommand).callsFake((input: { taskDefinition: string }) => ({
      service: {
        deployments: [{ status: 'PRIMARY', taskDefinition: input.taskDefinition, createdAt: DEPLOYED_AT }],
      },
    }));
  });

  it('runs a revision on Graviton when its image is built for linux/arm64 and not linux/amd64, else on X86_64', async () => {
    answerAsForANewApp();
    const architectureFor = async (platforms?: string[]) => {
      ecs.resetHistory();
      await services().applyWorkload({ ...spec, ...(platforms ? { platforms } : {}) });
      const [call] = ecs.commandCalls(RegisterTaskDefinitionCommand);
      return call?.args[0].input.runtimePlatform;
    };
    expect(await architectureFor(['linux/arm64'])).toEqual({
      cpuArchitecture: 'ARM64',
      operatingSystemFamily: 'LINUX',
    });
    // Both, or not known (an image from elsewhere): X86_64, as before Berth read images' platforms.
    expect((await architectureFor(['linux/arm64', 'linux/amd64']))?.cpuArchitecture).toBe('X86_64');
    expect((await architectureFor(['linux/amd64']))?.cpuArchitecture).toBe('X86_64');
    expect((await architectureFor())?.cpuArchitecture).toBe('X86_64');
  });

  it('creates an app as a service: its revision, replica count, circuit breaker, target group and client token', async () => {
    answerAsForANewApp();
    await services().applyWorkload(spec);
    expect(ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      family: 'berth-acme-web-89abcdef',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      // The role ECS pulls the image and sends the logs with; the app's own has nothing.
      executionRoleArn: settings.executionRoleArn,
      taskRoleArn: settings.taskRoleArn,
      containerDefinitions: [
        expect.objectContaining({
          image: spec.image,
          // The task's one container: ECS stops the task when it exits. Its filesystem is writable, as on Docker.
          essential: true,
          readonlyRootFilesystem: false,
          command: ['node', 'server.js'],
          linuxParameters: { initProcessEnabled: true, capabilities: { drop: ['NET_RAW'] } },
          portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/berth/apps',
              'awslogs-region': 'eu-west-1',
              // Each task's stream is <prefix>/app/<task id>, where FargateLogs reads it.
              'awslogs-stream-prefix': 'berth-acme-web-89abcdef',
              // A log line never holds the app up: lines beyond the buffer are dropped instead.
              mode: 'non-blocking',
              'max-buffer-size': '4m',
            },
          },
        }),
      ],
      tags: expect.arrayContaining([{ key: 'berth:revision', value: '3' }]),
    });
    // The app's health check is the load balancer's; its host rule takes the first free priority.
    expect(elb).toHaveReceivedCommandWith(CreateTargetGroupCommand, {
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 8080,
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200-399' },
      HealthyThresholdCount: 2,
    });
    expect(elb).toHaveReceivedCommandWith(CreateRuleCommand, {
      Priority: 2,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web--acme.apps.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'arn:tg' }],
      Tags: [{ Key: 'berth:tenant', Value: 'acme' }],
    });
    const token = clientTokenOf(spec);
    expect(token).toHaveLength(36);
    expect(clientTokenOf({ ...spec })).toBe(token);
    expect(clientTokenOf({ ...spec, revision: 4 })).not.toBe(token);
    expect(ecs).toHaveReceivedCommandWith(CreateServiceCommand, {
      cluster: 'berth',
      serviceName: SERVICE,
      taskDefinition: 'arn:td:3',
      desiredCount: 3,
      launchType: 'FARGATE',
      loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'app', containerPort: 8080 }],
      healthCheckGracePeriodSeconds: 30,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        minimumHealthyPercent: 100,
        maximumPercent: 200,
      },
      propagateTags: 'TASK_DEFINITION',
      enableECSManagedTags: true,
      // No one gets a shell in a tenant's task through ECS Exec.
      enableExecuteCommand: false,
      clientToken: token,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-apps'],
          assignPublicIp: 'DISABLED',
        },
      },
      tags: expect.arrayContaining([
        { key: 'berth:spec-hash', value: workloadHash(spec) },
        { key: 'berth:task-definition', value: 'arn:td:3' },
        { key: 'berth:route', value: appRoutes().routeOf('acme', 'web') },
      ]),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it("lists Berth's services in the cluster a hundred a page, by tenant, app and incarnation", async () => {
    const arn = (name: string) => `arn:aws:ecs:eu-west-1:123456789012:service/berth/${name}`;
    ecs
      .on(ListServicesCommand)
      .resolvesOnce({ serviceArns: [arn('berth_acme_web_89abcdef'), arn('ops-dashboard')], nextToken: 't1' })
      .resolvesOnce({ serviceArns: [arn('berth_beta_api_01234567')] });
    expect(await services().holdings()).toEqual({
      homes: [],
      workloads: [
        { tenantId: 'acme', app: 'web', incarnation: '89abcdef' },
        { tenantId: 'beta', app: 'api', incarnation: '01234567' },
      ],
    });
    expect(ecs.commandCalls(ListServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'berth', maxResults: 100 },
      { cluster: 'berth', maxResults: 100, nextToken: 't1' },
    ]);
  });

  it('stops an apply when the task definition cannot be read, registering nothing', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    await expect(services().applyWorkload(spec)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("answers ECS's refusal of a task definition, making no service; a registration that fails otherwise, or answers none, throws", async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' }));
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejectsOnce(
        Object.assign(new Error('Task definition size exceeds the limit.'), { name: 'ClientException' }),
      )
      .rejectsOnce(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }))
      .resolves({});
    expect(await services().applyWorkload(spec)).toEqual({
      refused: 'ECS refused the task definition: Task definition size exceeds the limit.',
    });
    await expect(services().applyWorkload(spec)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(services().applyWorkload(spec)).rejects.toThrow('ECS registered no task definition for');
    expect(ecs).not.toHaveReceivedCommand(CreateServiceCommand);
  });

  it('updates an existing service, reusing the revision’s task definition; a restart forces a new deployment', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: 'arn:td:3', containerDefinitions: [{ image: spec.image }] },
      tags: [{ key: 'berth:revision', value: '3' }],
    });
    const routed = {
      loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'app', containerPort: 8080 }],
    };
    ecs.on(DescribeServicesCommand).resolves({ services: [service('web', routed)] });
    await services().applyWorkload({ ...spec, replicas: 5 });
    // Asked for by the family's exact name: ListTaskDefinitions would match any family that starts the same.
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: 'berth-acme-web-89abcdef',
      include: ['TAGS'],
    });
    expect(ecs).not.toHaveReceivedCommand(ListTaskDefinitionsCommand);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(CreateServiceCommand);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'berth',
      service: SERVICE,
      taskDefinition: 'arn:td:3',
      desiredCount: 5,
      // Given again, so a service made by an earlier Berth takes the circuit breaker too.
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        minimumHealthyPercent: 100,
        maximumPercent: 200,
      },
      forceNewDeployment: false,
    });
    // The service's load balancers are as they should be: given again, ECS would start a new deployment.
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).not.toHaveProperty('loadBalancers');
    expect(ecs).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: service('web').serviceArn,
      tags: expect.arrayContaining([
        { key: 'berth:spec-hash', value: workloadHash({ ...spec, replicas: 5 }) },
        { key: 'berth:task-definition', value: 'arn:td:3' },
        { key: 'berth:deployed-at', value: DEPLOYED_AT.toISOString() },
      ]),
    });
    ecs.resetHistory();
    const restartedAt = '2026-11-22T11:00:00.000Z';
    await services().applyWorkload({ ...spec, restartedAt });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { forceNewDeployment: true });
    // The restart is kept on the service, so that the next apply does not restart it again.
    expect(ecs).toHaveReceivedCommandWith(TagResourceCommand, {
      tags: expect.arrayContaining([{ key: 'berth:restarted-at', value: restartedAt }]),
    });
    const restarted = service('web', { ...routed, tags: tagsWith('berth:restarted-at', restartedAt) });
    ecs.on(DescribeServicesCommand).resolves({ services: [restarted] });
    ecs.resetHistory();
    await services().applyWorkload({ ...spec, restartedAt });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { forceNewDeployment: false });
    // A service on another target group or port is moved.
    ecs.on(DescribeServicesCommand).resolves({ services: [service('web')] });
    ecs.resetHistory();
    await services().applyWorkload(spec);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'app', containerPort: 8080 }],
    });
  });

  it('retires the revisions of the family that no deployment of the service runs as it registers one, ten an apply', async () => {
    const family = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/berth-acme-web-89abcdef';
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: `${family}:2`, containerDefinitions: [{ image: spec.image }] },
      tags: [{ key: 'berth:revision', value: '2' }],
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: `${family}:40` } });
    // Revision 2 serves, revision 39's rollout is under way: ECS's circuit breaker would go back to 2.
    const deployments = [
      { status: 'PRIMARY', taskDefinition: `${family}:39` },
      { status: 'ACTIVE', taskDefinition: `${family}:2` },
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service('web', { deployments })] });
    const active = [1, 2, ...Array.from({ length: 15 }, (_, i) => 25 + i), 40].map((n) => `${family}:${n}`);
    // The prefix also matches a longer family name, which is left alone.
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [`${family}-x:1`, ...active] });
    await services().applyWorkload(spec);
    expect(ecs).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, {
      familyPrefix: 'berth-acme-web-89abcdef',
      status: 'ACTIVE',
      sort: 'ASC',
    });
    const retired = [1, ...Array.from({ length: 9 }, (_, i) => 25 + i)].map((n) => `${family}:${n}`);
    const deregistered = ecs
      .commandCalls(DeregisterTaskDefinitionCommand)
      .map((c) => c.args[0].input.taskDefinition);
    expect(deregistered).toEqual(retired);
    expect(ecs).toHaveReceivedCommandTimes(DeleteTaskDefinitionsCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(DeleteTaskDefinitionsCommand, { taskDefinitions: retired });
    // Each after the update is made and tagged: a failed update retires nothing.
    const sent = ecs.calls().map((call) => call.args[0].constructor.name);
    expect(sent.indexOf('TagResourceCommand')).toBeLessThan(sent.indexOf('ListTaskDefinitionsCommand'));

    // An apply that registers nothing (a scale, a restart) retires nothing.
    ecs.resetHistory();
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: `${family}:40`, containerDefinitions: [{ image: spec.image }] },
      tags: [{ key: 'berth:revision', value: '3' }],
    });
    await services().applyWorkload({ ...spec, replicas: 5 });
    expect(ecs).toHaveReceivedCommand(UpdateServiceCommand);
    expect(ecs).not.toHaveReceivedCommand(ListTaskDefinitionsCommand);
    expect(ecs).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it('lists no tasks of a service at rest, and vouches for its replicas instead', async () => {
    const done = { status: 'PRIMARY', taskDefinition: 'arn:td:3', rolloutState: 'COMPLETED' } as const;
    const atRest: Partial<Service> = {
      deployments: [done],
      desiredCount: 2,
      runningCount: 2,
      pendingCount: 0,
    };
    const variants: Record<string, Partial<Service>> = {
      'app-0': atRest,
      'app-1': { ...atRest, runningCount: 1 }, // a task went missing
      'app-2': { ...atRest, pendingCount: 1 }, // one is on its way
      'app-3': { ...atRest, deployments: [{ ...done, rolloutState: 'IN_PROGRESS' }] },
      'app-4': { ...atRest, deployments: [{ ...done, taskDefinition: 'arn:td:2' }] }, // ECS rolled back
      'app-5': { ...atRest, deployments: [done, { ...done, status: 'ACTIVE' }] },
    };
    const apps = Object.keys(variants).map((name) => ({ name, uid: 'app_0123456789abcdef' }));
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.map((name) => {
        const app = name.split('_')[2] ?? '';
        return service(app, variants[app]);
      }),
    }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const { workloads } = await services().observe('acme', apps);
    expect(workloads.map((w) => [w.app, w.steady])).toEqual([
      ['app-0', { revision: 3, replicas: 2 }],
      ['app-1', undefined],
      ['app-2', undefined],
      ['app-3', undefined],
      ['app-4', undefined],
      ['app-5', undefined],
    ]);
    const listed = ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input.serviceName?.split('_')[2]);
    expect(listed.sort()).toEqual(['app-1', 'app-2', 'app-3', 'app-4', 'app-5']);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(5);
  });

  it('applies again a service whose route was made under an earlier domain, zone or set of load balancers', async () => {
    const routedFor = (route?: string) =>
      service('web', {
        tags: [
          ...(service('web').tags ?? []).filter((t) => t.key !== 'berth:route'),
          ...(route ? [{ key: 'berth:route', value: route }] : []),
        ],
      });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const specHashOf = async (service: Service) => {
      ecs.on(DescribeServicesCommand).resolves({ services: [service] });
      const { workloads } = await services().observe('acme', [{ name: 'web', uid: spec.appUid }]);
      return workloads[0]?.specHash;
    };
    const now = appRoutes().routeOf('acme', 'web');
    expect(now).toMatch(/^web--acme\.apps\.example\.com - [0-9a-f]{12}$/);
    expect(await specHashOf(routedFor(now))).toBe('hash-web');
    const under = (changed: Partial<AlbAppRoutesSettings>) => appRoutes(changed).routeOf('acme', 'web');
    expect(await specHashOf(routedFor(under({ domain: 'apps.old-name.com' })))).toBe('');
    // The record kept in a zone the install has no longer (or had none).
    const zone = { point: async () => undefined, remove: async () => undefined, hostedZoneId: 'ZOLD' };
    expect(await specHashOf(routedFor(under({ dns: zone })))).toBe('');
    // On a load balancer the install has no longer (loadBalancers lowered, or one replaced), which took its rule.
    const second = { listenerArn: SHARD.listenerArn.replace('apps-1', 'apps-2') };
    expect(await specHashOf(routedFor(under({ shards: [SHARD, second] })))).toBe('');
    // Routed before Berth noted the route: applied again once.
    expect(await specHashOf(routedFor())).toBe('');
  });

  it('says why ECS cannot start an app’s tasks while its newest event since the deployment began says so', async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 9, minute));
    const deployedAt = [
      {
        status: 'PRIMARY',
        taskDefinition: 'arn:td:3',
        rolloutState: 'IN_PROGRESS' as const,
        createdAt: at(10),
      },
    ];
    const event = (minute: number, message: string) => ({ id: `e${minute}`, createdAt: at(minute), message });
    const unplaced = (app: string) =>
      `(service ${app}) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone.`;
    const events: Record<string, Service['events']> = {
      placing: [
        event(12, unplaced('placing')),
        event(11, `(service placing) has started 1 tasks: (task t1).`),
      ],
      // At the very time the deployment began: its own.
      launching: [
        event(
          10,
          '(service launching) failed to launch a task with (error The requested CPU configuration is above your limit).',
        ),
      ],
      started: [
        event(12, '(service started) has started 2 tasks: (task t1) (task t2).'),
        event(11, unplaced('started')),
      ],
      before: [event(9, unplaced('before'))],
    };
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.map((name) => {
        const app = name.split('_')[2] ?? '';
        return service(app, { deployments: deployedAt, events: events[app] ?? [] });
      }),
    }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const apps = Object.keys(events).map((name) => ({ name, uid: 'app_0123456789abcdef' }));
    const { workloads } = await services().observe('acme', apps);
    expect(Object.fromEntries(workloads.map((w) => [w.app, w.notStarting]))).toEqual({
      placing:
        'ECS was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone.',
      launching:
        'ECS failed to launch a task with (error The requested CPU configuration is above your limit).',
      // Tasks started since; an event from before the deployment is another deployment's.
      started: undefined,
      before: undefined,
    });
  });

  it('observes a tenant: services in tens, tasks per service, readiness from target health, ECS rollbacks', async () => {
    const apps = Array.from({ length: 25 }, (_, i) => ({ name: `app-${i}`, uid: 'app_0123456789abcdef' }));
    ecs
      .on(DescribeServicesCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .callsFake((input: { services: string[] }) => ({
        services: input.services.map((name) => {
          const app = name.split('_')[2] ?? '';
          if (app === 'app-1')
            return service(app, {
              deployments: [
                { status: 'PRIMARY', taskDefinition: 'arn:td:2', rolloutState: 'IN_PROGRESS' },
                { status: 'ACTIVE', taskDefinition: 'arn:td:3', rolloutState: 'FAILED' },
              ],
            });
          return app === 'app-2' ? service(app, { status: 'INACTIVE' }) : service(app);
        }),
      }));
    // A task without Berth's tags (one an operator ran in the service's group, tags not propagated), or without its
    // tenant's or its app's, is no replica.
    const without = (n: number, key: string) => task(n, { tags: task(n).tags?.filter((t) => t.key !== key) });
    const notReplicas = [task(4, { tags: [] }), without(6, 'berth:tenant'), without(8, 'berth:app-uid')];
    ecs.on(ListTasksCommand).callsFake((input: { serviceName: string }) => ({
      taskArns: input.serviceName.endsWith(`app-0_89abcdef`)
        ? [task(0), task(2), ...notReplicas].map((t) => t.taskArn)
        : [],
    }));
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task(0), task(2), ...notReplicas] });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.64.32.0', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: '10.64.32.2', Port: 8080 }, TargetHealth: { State: 'initial' } },
      ],
    });
    const { workloads, replicas } = await services().observe('acme', apps);
    const described = ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services?.length);
    expect(described.sort()).toEqual([10, 10, 10, 5]); // one batch retried after throttling
    expect(workloads).toHaveLength(24); // INACTIVE is gone
    expect(workloads.find((w) => w.app === 'app-0')).toEqual({
      app: 'app-0',
      specHash: 'hash-app-0',
      rolloutFailure: null,
    });
    expect(workloads.find((w) => w.app === 'app-1')?.rolloutFailure).toMatch(/circuit breaker/);
    // Per app: one ListTasks and one target-health read (by the service's own target group).
    expect(ecs.commandCalls(ListTasksCommand)).toHaveLength(24);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(24);
    expect(elb).not.toHaveReceivedCommand(DescribeTargetGroupsCommand);
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'berth',
      serviceName: serviceNameOf({ tenantId: 'acme', app: 'app-0', appUid: 'app_0123456789abcdef' }),
      desiredStatus: 'RUNNING',
    });
    expect(replicas.map((r) => [r.endpoint?.host, r.ready])).toEqual([
      ['10.64.32.0', true],
      ['10.64.32.2', false],
    ]);
  });

  it('takes a PRIMARY of another task definition for ECS rolling back only when ECS made it after the one applied, and a failure only of the one applied', async () => {
    const primaryMade = (at: Date | undefined, deployedAt: string | undefined) =>
      service('web', {
        tags: tagsWith('berth:deployed-at', deployedAt),
        deployments: [
          { status: 'PRIMARY', taskDefinition: 'arn:td:2', rolloutState: 'IN_PROGRESS', createdAt: at },
        ],
      });
    const failureOf = async (observed: Service) => {
      ecs.on(DescribeServicesCommand).resolves({ services: [observed] });
      ecs.on(ListTasksCommand).resolves({ taskArns: [] });
      elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
      const { workloads } = await services().observe('acme', [{ name: 'web', uid: 'app_0123456789abcdef' }]);
      return workloads[0]?.rolloutFailure ?? null;
    };
    const applied = DEPLOYED_AT.toISOString();
    // ECS's rollback: a deployment of the task definition before, made after the one applied.
    expect(await failureOf(primaryMade(new Date(DEPLOYED_AT.getTime() + 60_000), applied))).toMatch(
      /circuit breaker/,
    );
    // A read that does not show the update yet (ECS's reads are eventually consistent): the deployment before it.
    expect(await failureOf(primaryMade(new Date(DEPLOYED_AT.getTime() - 60_000), applied))).toBeNull();
    // A service tagged by an earlier Berth, with no time: any PRIMARY of another task definition, as before.
    expect(await failureOf(primaryMade(new Date(DEPLOYED_AT.getTime() - 60_000), undefined))).toMatch(
      /circuit breaker/,
    );
    expect(await failureOf(primaryMade(undefined, ''))).toMatch(/circuit breaker/);
    // The revision before failed its own rollout and still drains: nothing against the one applied, until it fails.
    const besideFailed = (rolloutState: 'IN_PROGRESS' | 'FAILED') =>
      service('web', {
        deployments: [
          { status: 'PRIMARY', taskDefinition: 'arn:td:3', rolloutState },
          { status: 'ACTIVE', taskDefinition: 'arn:td:2', rolloutState: 'FAILED' },
        ],
      });
    expect(await failureOf(besideFailed('IN_PROGRESS'))).toBeNull();
    expect(await failureOf(besideFailed('FAILED'))).toMatch(/circuit breaker/);
  });

  it('takes a service that is no longer active by the time it deletes it for draining', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service('web')] });
    // ECS deleted it, but its answer never came: the SDK sent the call again, which finds it draining.
    ecs
      .on(DeleteServiceCommand)
      .rejects(Object.assign(new Error('not active'), { name: 'ServiceNotActiveException' }));
    const app = { name: 'web', uid: 'app_0123456789abcdef' };
    expect(await services().deleteWorkload('acme', app)).toBe(false);
    expect(elb).not.toHaveReceivedCommand(DeleteTargetGroupCommand);
  });

  it('deletes the service, then its route and task definitions once ECS lets go of them', async () => {
    let current: Service[] = [service('web')];
    ecs.on(DescribeServicesCommand).callsFake(() => ({ services: current }));
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb
      .on(DeleteTargetGroupCommand)
      .rejectsOnce(Object.assign(new Error('in use'), { name: 'ResourceInUseException' }))
      .resolves({});
    const app = { name: 'web', uid: 'app_0123456789abcdef' };
    expect(await services().deleteWorkload('acme', app)).toBe(false);
    expect(ecs).toHaveReceivedCommandWith(DeleteServiceCommand, {
      cluster: 'berth',
      service: SERVICE,
      force: true,
    });
    // Draining: no second delete, and the route stays until the service is gone.
    current = [service('web', { status: 'DRAINING' })];
    expect(await services().deleteWorkload('acme', app)).toBe(false);
    expect(ecs).toHaveReceivedCommandTimes(DeleteServiceCommand, 1);
    expect(ecs).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
    current = [];
    const family = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/berth-acme-web-89abcdef';
    ecs
      .on(ListTaskDefinitionsCommand, { status: 'ACTIVE' })
      // The prefix also matches a longer family name, which is left alone.
      .resolvesOnce({ taskDefinitionArns: [`${family}:1`, `${family}-x:1`], nextToken: 'p2' })
      .resolves({ taskDefinitionArns: [`${family}:2`] });
    ecs
      .on(ListTaskDefinitionsCommand, { status: 'INACTIVE' })
      .resolves({ taskDefinitionArns: [`${family}:0`] });
    // Gone, but the load balancer has not let go of the target group yet: nothing else is deleted.
    expect(await services().deleteWorkload('acme', app)).toBe(false);
    expect(ecs).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
    expect(await services().deleteWorkload('acme', app)).toBe(true);
    expect(elb).toHaveReceivedCommandWith(DeleteTargetGroupCommand, { TargetGroupArn: 'arn:tg' });
    expect(ecs).toHaveReceivedCommandTimes(DeregisterTaskDefinitionCommand, 2);
    expect(ecs).toHaveReceivedCommandWith(DeleteTaskDefinitionsCommand, {
      taskDefinitions: [`${family}:1`, `${family}:2`, `${family}:0`],
    });
    // Every page of both lists is read before the first deregistration changes them.
    const sent = ecs.calls().map((call) => call.args[0].constructor.name);
    expect(sent.filter((name) => name === 'ListTaskDefinitionsCommand')).toHaveLength(3);
    expect(sent.lastIndexOf('ListTaskDefinitionsCommand')).toBeLessThan(
      sent.indexOf('DeregisterTaskDefinitionCommand'),
    );
  });

  it('lists every task of the cluster with paged ListTasks and DescribeTasks in batches of at most 100', async () => {
    const arns = Array.from({ length: 250 }, (_, i) => task(i).taskArn ?? '');
    ecs
      .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: 'p2' })
      .resolvesOnce({ taskArns: arns.slice(100, 200), nextToken: 'p3' })
      .resolvesOnce({ taskArns: arns.slice(200) });
    ecs
      .on(ListTasksCommand, { desiredStatus: 'STOPPED' })
      .resolves({ taskArns: ['arn:stopped', 'arn:stopped-by-hand'] });
    const stopped: Record<string, Partial<Task>> = {
      'arn:stopped': {
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [{ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
      },
      'arn:stopped-by-hand': {
        stopCode: 'UserInitiated',
        stoppedReason: 'stopped by the on-call engineer',
        containers: [{ exitCode: 143 }],
      },
    };
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((arn) =>
        stopped[arn]
          ? task(1000, {
              taskArn: arn,
              lastStatus: 'STOPPED',
              stoppedAt: new Date('2026-11-22T11:00:00Z'),
              ...stopped[arn],
            })
          : task(Number(arn.split('/t').pop())),
      ),
    }));
    const replicas = await services().listReplicas({ appUid: 'app_0123456789abcdef' });
    expect(replicas).toHaveLength(127);
    expect(replicas[0]).toEqual({
      id: 'arn:aws:ecs:eu-west-1:123456789012:task/berth/t0',
      tenantId: 'acme',
      app: 'web',
      appUid: 'app_0123456789abcdef',
      revision: 3,
      // The service keeps the count: a task has no generation or slot of its own.
      generation: 0,
      slot: 0,
      state: 'running',
      cpu: 0.5,
      memoryMiB: 1024,
      createdAt: '2026-11-22T09:59:59.000Z',
      startedAt: '2026-11-22T10:00:00.000Z', // from the image pull, as Fargate bills
      stoppedAt: null,
      exitCode: null,
      endpoint: { host: '10.64.32.0', port: 8080 },
    });
    expect(replicas.find((r) => r.id === 'arn:stopped')).toMatchObject({
      state: 'exited',
      stoppedAt: '2026-11-22T11:00:00.000Z',
      exitCode: 137,
      exitReason: 'OutOfMemoryError: Container killed due to memory usage',
      endpoint: null,
    });
    expect(replicas.find((r) => r.id === 'arn:stopped-by-hand')).toMatchObject({
      state: 'exited',
      exitCode: 143,
      exitReason: 'stopped outside Berth: stopped by the on-call engineer',
    });
    const describeCalls = ecs
      .commandCalls(DescribeTasksCommand)
      .map((c) => c.args[0].input.tasks?.length ?? 0);
    expect(Math.max(...describeCalls)).toBeLessThanOrEqual(100);
    expect(ecs).not.toHaveReceivedCommandWith(ListTasksCommand, { family: expect.anything() });
  });

  it('describes a large cluster with at most 8 DescribeTasks in flight', async () => {
    const arns = Array.from({ length: 2000 }, (_, i) => task(i).taskArn ?? '');
    ecs.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: arns });
    ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    const describe = overlapCounter((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((arn) => task(Number(arn.split('/t').pop()))),
    }));
    ecs.on(DescribeTasksCommand).callsFake(describe.call);
    const replicas = await services().listReplicas();
    expect(replicas.map((r) => r.id)).toEqual(arns);
    expect(ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 20);
    expect(describe.most).toBe(8);
  });

  it('tells a started task as running until ECS has stopped it, stopping once its service stops it', async () => {
    const stopped = (n: number, stopCode: TaskStopCode, stoppedReason: string, exitCode: number) =>
      task(n, {
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode,
        stoppedReason,
        stoppedAt: new Date('2026-11-22T11:00:00Z'),
        containers: [{ exitCode }],
      });
    const tasks = [
      task(2, { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' }), // its target draining
      task(4, { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' }), // its grace
      task(6, { lastStatus: 'PENDING', desiredStatus: 'RUNNING', startedAt: undefined }),
      task(8, { desiredStatus: 'RUNNING' }),
      stopped(10, 'ServiceSchedulerInitiated', 'Scaling activity initiated by (deployment ecs-svc/1)', 143),
      stopped(12, 'UserInitiated', 'stopped by the on-call engineer', 143),
      stopped(
        14,
        'ServiceSchedulerInitiated',
        'Task failed ELB health checks in (target-group arn:tg:web)',
        143,
      ),
      stopped(16, 'EssentialContainerExited', 'Essential container in task exited', 1),
      stopped(18, 'EssentialContainerExited', 'Essential container in task exited', 0),
    ];
    ecs.on(ListTasksCommand).callsFake((input: { desiredStatus: string }) => ({
      taskArns: tasks.filter((t) => t.desiredStatus === input.desiredStatus).map((t) => t.taskArn),
    }));
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: tasks.filter((t) => input.tasks.includes(t.taskArn ?? '')),
    }));
    const replicas = new Map(
      (await services().listReplicas()).map((r) => [Number(r.id.split('/t').pop()), r]),
    );
    const leaving = { state: 'running', stopping: true, endpoint: { host: expect.any(String), port: 8080 } };
    expect(replicas.get(2)).toMatchObject(leaving);
    expect(replicas.get(4)).toMatchObject(leaving);
    expect(replicas.get(6)).toMatchObject({ state: 'pending', endpoint: null });
    expect(replicas.get(8)).toMatchObject({ state: 'running' });
    for (const n of [6, 8, 10, 12, 14, 16, 18]) expect(replicas.get(n)?.stopping).toBeUndefined();
    // Stopped by its service or by hand, its SIGTERM's 143 is no failure; failing its checks or exiting by itself is.
    for (const n of [10, 12]) expect(replicas.get(n)).toMatchObject({ state: 'exited', stopRequested: true });
    for (const n of [2, 4, 8, 14, 16, 18]) expect(replicas.get(n)?.stopRequested).toBeUndefined();
    // Its container's exit code, 0 as any other.
    expect([16, 18].map((n) => replicas.get(n)?.exitCode)).toEqual([1, 0]);
    expect(replicas.get(8)?.exitCode).toBeNull();
  });

  it("lists one app's tasks by its task-definition family when the filter names the app", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [task(0).taskArn ?? ''] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task(0)] });
    const replicas = await services().listReplicas({ tenantId: 'acme', appUid: spec.appUid, app: 'web' });
    expect(replicas).toHaveLength(1);
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
        cluster: 'berth',
        family: 'berth-acme-web-89abcdef',
        desiredStatus,
      });
    }
    // A filter that names the tenant alone lists the cluster's tasks, and keeps the tenant's.
    ecs.reset();
    ecs.on(ListTasksCommand).resolves({ taskArns: [task(0).taskArn ?? '', task(1).taskArn ?? ''] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task(0),
        task(1, {
          tags: task(1).tags?.map((t) => (t.key === 'berth:tenant' ? { ...t, value: 'other' } : t)),
        }),
      ],
    });
    const tenants = await services().listReplicas({ tenantId: 'acme' });
    expect(tenants.map((r) => r.id)).toEqual([task(0).taskArn]);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input.family)).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('gives a service the grace period its health check asks for, none included', async () => {
    const noGrace = {
      ...spec,
      healthCheck: spec.healthCheck && { ...spec.healthCheck, gracePeriodSeconds: 0 },
    };
    answerAsForANewApp();
    await services().applyWorkload(noGrace);
    expect(ecs).toHaveReceivedCommandWith(CreateServiceCommand, { healthCheckGracePeriodSeconds: 0 });
    ecs.on(DescribeServicesCommand).resolves({ services: [service('web')] });
    ecs.on(UpdateServiceCommand).resolves({ service: service('web') });
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    await services().applyWorkload(noGrace);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { healthCheckGracePeriodSeconds: 0 });
  });

  it('names services so a task group gives tenant and app back, and nothing else parses', () => {
    expect(SERVICE).toBe(serviceNameOf(spec));
    expect(parseTaskGroup(`service:${SERVICE}`)).toEqual({
      tenantId: 'acme',
      app: 'web',
      incarnation: '89abcdef',
    });
    for (const group of [
      undefined,
      'service:other',
      'berth:acme:web',
      `family:${SERVICE}`,
      'service:berth_a_b',
    ]) {
      expect(parseTaskGroup(group)).toBeUndefined();
    }
  });
});

describe('FargateMetrics', () => {
  const NOW = new Date('2026-11-22T10:00:30Z');
  /** The minute before NOW's, Container Insights' latest point. */
  const LATEST_MINUTE = Date.parse('2026-11-22T09:59:00Z');

  /**
   * CloudWatch as Container Insights with enhanced observability fills it: each task's own figures under cluster,
   * task definition family and task id, and the family's average under cluster and family, a point a minute for the
   * last quarter hour. A query gets data only when its dimensions are exactly those of a published metric, each
   * value the average of the points in one period from StartTime on, newest first, as in CloudWatch.
   */
  function publishedInsights(
    tasks: { replica: Replica; cpu: (minutesAgo: number) => number; memory: number; memoryMiB: number }[],
  ) {
    const published = new Map<string, { at: number; value: number }[]>();
    const key = (name: string, dimensions: { Name?: string; Value?: string }[]) =>
      `${name} ${JSON.stringify([...dimensions].sort((a, b) => String(a.Name).localeCompare(String(b.Name))))}`;
    const series = (value: (minutesAgo: number) => number) =>
      Array.from({ length: 15 }, (_, ago) => ({ at: LATEST_MINUTE - ago * 60_000, value: value(ago) }));
    for (const { replica, cpu, memory, memoryMiB } of tasks) {
      const family = [
        { Name: 'ClusterName', Value: 'berth' },
        {
          Name: 'TaskDefinitionFamily',
          Value: `berth-${replica.tenantId}-${replica.app}-${replica.appUid.slice(-8)}`,
        },
      ];
      const task = [...family, { Name: 'TaskId', Value: replica.id.split('/').pop() }];
      for (const dimensions of [task, family]) {
        published.set(key('TaskCpuUtilization', dimensions), series(cpu));
        published.set(
          key('TaskMemoryUtilization', dimensions),
          series(() => memory),
        );
        published.set(
          key('MemoryUtilized', dimensions),
          series(() => memoryMiB),
        );
      }
    }
    cloudwatch.reset();
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const start = input.StartTime?.getTime() ?? 0;
      const end = input.EndTime?.getTime() ?? 0;
      return {
        // Only the queries whose data is asked for (ReturnData, true unless said otherwise) are answered.
        MetricDataResults: (input.MetricDataQueries ?? []).flatMap((q) => {
          if (q.ReturnData === false) return [];
          // It averages each period, as Berth asks: CloudWatch refuses a query without its statistic.
          if (q.MetricStat?.Stat !== 'Average') throw new Error(`query ${q.Id} has no statistic`);
          const metric = q.MetricStat?.Metric;
          const points =
            metric?.Namespace === 'ECS/ContainerInsights'
              ? (published.get(key(metric.MetricName ?? '', metric.Dimensions ?? [])) ?? [])
              : [];
          const period = (q.MetricStat?.Period ?? 60) * 1000;
          const values: number[] = [];
          for (let from = start; from < end; from += period) {
            const inPeriod = points.filter((p) => p.at >= from && p.at < from + period && p.at < end);
            if (inPeriod.length)
              values.unshift(inPeriod.reduce((sum, p) => sum + p.value, 0) / inPeriod.length);
          }
          return [{ Id: q.Id, Values: values }];
        }),
      };
    });
  }

  const replicaOf = (i: number, app = 'web'): Replica =>
    ({
      id: `arn:aws:ecs:eu-west-1:123456789012:task/berth/${i.toString(16).padStart(32, '0')}`,
      tenantId: 'acme',
      app,
      appUid: `app_${app.padEnd(16, '0')}`,
    }) as Replica;

  it('reads each task’s latest own figures, where Container Insights publishes them, at most 500 queries a call', async () => {
    const replicas = Array.from({ length: 400 }, (_, i) => replicaOf(i, i % 2 ? 'web' : 'api'));
    publishedInsights(
      replicas.map((replica, i) => ({
        replica,
        cpu: (ago) => (i === 0 ? 140 : i / 10 + ago),
        memory: 25,
        memoryMiB: 256 + i,
      })),
    );
    const { windowSeconds, stats } = await new FargateMetrics(
      new CloudWatchClient({}),
      'berth',
      () => NOW,
    ).replicaStats(replicas);
    expect(windowSeconds).toBe(60);
    expect(stats.size).toBe(400);
    expect(stats.get(replicas[0]?.id ?? '')).toEqual({ cpuPercent: 100, memoryPercent: 25, memoryMiB: 256 });
    expect(stats.get(replicas[399]?.id ?? '')).toEqual({
      cpuPercent: 39.9,
      memoryPercent: 25,
      memoryMiB: 655,
    });
    const sizes = cloudwatch
      .commandCalls(GetMetricDataCommand)
      .map((c) => c.args[0].input.MetricDataQueries?.length ?? 0);
    expect(sizes).toEqual([498, 498, 204]);
  });

  it('averages a window as one CloudWatch period of whole minutes, and says the span it averaged', async () => {
    const replica = replicaOf(1);
    // 14 minutes ago at 28 %, down to 0 % in the latest minute: 14 % over the quarter hour.
    publishedInsights([{ replica, cpu: (ago) => 2 * ago, memory: 20, memoryMiB: 30 }]);
    const metrics = new FargateMetrics(new CloudWatchClient({}), 'berth', () => NOW);
    expect(await metrics.replicaStats([replica], 900)).toEqual({
      windowSeconds: 900,
      stats: new Map([[replica.id, { cpuPercent: 14, memoryPercent: 20, memoryMiB: 30 }]]),
    });
    expect(cloudwatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-22T09:45:00Z'),
      EndTime: new Date('2026-11-22T10:00:00Z'),
    });
    // 90 s is two whole minutes: 0 % and 2 %.
    expect(await metrics.replicaStats([replica], 90)).toMatchObject({
      windowSeconds: 120,
      stats: new Map([[replica.id, { cpuPercent: 1, memoryPercent: 20, memoryMiB: 30 }]]),
    });
  });

  it('averages over a fixed few windows, each covering the one asked for, that CloudWatch keeps points of', () => {
    const minutes = (n: number) => n * 60;
    const days = (n: number) => n * 86_400;
    expect([30, 60, 90, minutes(15), minutes(17), minutes(45)].map(periodFor)).toEqual([
      60,
      60,
      120,
      minutes(15),
      minutes(30),
      3600,
    ]);
    // Every window a client may name comes to one of 22 periods: 22 query sets a task at most in a minute.
    const named = [
      ...Array.from({ length: 1000 }, (_, i) => minutes(i + 1)),
      ...Array.from({ length: 999 }, (_, i) => days(i + 1)),
    ];
    const periods = new Set(named.map(periodFor));
    expect(periods.size).toBe(22);
    for (const period of periods) expect(period >= 60 && period % 60 === 0).toBe(true);
    // Past 15 days, whole 5 minutes; past 63, whole hours: the points CloudWatch still keeps.
    for (const period of periods) if (period > days(15)) expect(period % 300).toBe(0);
    for (const period of periods) if (period > days(63)) expect(period % 3600).toBe(0);
    expect(periodFor(days(15) + 1)).toBe(days(30));
    expect(periodFor(days(63) + 1)).toBe(days(90));
    // No further back than CloudWatch keeps anything (15 months), and so well within GetMetricData's 32-bit period.
    expect(periodFor(days(999_999))).toBe(days(455));
  });

  it('asks CloudWatch for a task’s figures once a minute, however often they are asked for', async () => {
    const [a, b, c] = [replicaOf(1), replicaOf(2), replicaOf(3)];
    if (!a || !b || !c) throw new Error('no replicas');
    publishedInsights([a, b, c].map((replica) => ({ replica, cpu: () => 10, memory: 20, memoryMiB: 30 })));
    let now = NOW;
    const metrics = new FargateMetrics(new CloudWatchClient({}), 'berth', () => now);
    const queried = () =>
      cloudwatch
        .commandCalls(GetMetricDataCommand)
        .map(
          (call) =>
            (call.args[0].input.MetricDataQueries ?? []).filter((q) => q.Id?.startsWith('cpu')).length,
        );
    const figures = { cpuPercent: 10, memoryPercent: 20, memoryMiB: 30 };
    expect((await metrics.replicaStats([a, b])).stats).toEqual(new Map([a, b].map((r) => [r.id, figures])));
    // A poll within the minute, then one with another task too: only that task is asked for.
    now = new Date(NOW.getTime() + 20_000);
    expect((await metrics.replicaStats([b, a])).stats).toEqual(new Map([b, a].map((r) => [r.id, figures])));
    expect((await metrics.replicaStats([a, b, c])).stats.size).toBe(3);
    // Another period is another query; the next minute, all are asked for again.
    await metrics.replicaStats([a], 900);
    now = new Date(NOW.getTime() + 60_000);
    await metrics.replicaStats([a, b, c]);
    expect(queried()).toEqual([2, 1, 1, 3]);
  });

  it('asks only for the figures wanted, each a billed query: CPU alone is 500 tasks a call', async () => {
    const replicas = Array.from({ length: 600 }, (_, i) => replicaOf(i));
    publishedInsights(replicas.map((replica) => ({ replica, cpu: () => 40, memory: 25, memoryMiB: 300 })));
    const metrics = new FargateMetrics(new CloudWatchClient({}), 'berth', () => NOW);
    const cpuAlone = await metrics.replicaStats(replicas, undefined, ['cpuPercent']);
    expect(cpuAlone.stats.size).toBe(600);
    expect(cpuAlone.stats.get(replicas[599]?.id ?? '')).toEqual({ cpuPercent: 40 });
    const asked = () =>
      cloudwatch
        .commandCalls(GetMetricDataCommand)
        .map((call) =>
          (call.args[0].input.MetricDataQueries ?? []).map((q) => q.MetricStat?.Metric?.MetricName),
        );
    expect(asked().map((names) => names.length)).toEqual([500, 100]);
    expect(new Set(asked().flat())).toEqual(new Set(['TaskCpuUtilization']));

    // Within the same minute, only figures not read yet are asked for: memory used, then memory in MiB.
    cloudwatch.resetHistory();
    const both = await metrics.replicaStats(replicas.slice(0, 2), undefined, ['memoryPercent', 'cpuPercent']);
    expect(both.stats.get(replicas[0]?.id ?? '')).toEqual({ cpuPercent: 40, memoryPercent: 25 });
    const all = await metrics.replicaStats(replicas.slice(0, 2));
    expect(all.stats.get(replicas[0]?.id ?? '')).toEqual({
      cpuPercent: 40,
      memoryPercent: 25,
      memoryMiB: 300,
    });
    expect(asked()).toEqual([
      ['TaskMemoryUtilization', 'TaskMemoryUtilization'],
      ['MemoryUtilized', 'MemoryUtilized'],
    ]);
  });

  it('tells an idle task’s 0 % as a figure, memory used unpublished as 0, and a figure’s newest point over pages', async () => {
    const replica = replicaOf(1);
    publishedInsights([{ replica, cpu: () => 0, memory: 0, memoryMiB: 0 }]);
    const metrics = new FargateMetrics(new CloudWatchClient({}), 'berth', () => NOW);
    expect((await metrics.replicaStats([replica])).stats.get(replica.id)).toEqual({
      cpuPercent: 0,
      memoryPercent: 0,
      memoryMiB: 0,
    });
    // Utilisations alone, over two pages of CloudWatch's answer, newest first: a page's older point of a figure
    // already read is not taken for its latest.
    cloudwatch.reset();
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'cpu0', Values: [12] },
          { Id: 'mem0', Values: [] },
        ],
        NextToken: 'more',
      })
      .resolves({
        MetricDataResults: [
          { Id: 'cpu0', Values: [30] },
          { Id: 'mem0', Values: [40] },
        ],
      });
    const later = new FargateMetrics(new CloudWatchClient({}), 'berth', () => NOW);
    expect((await later.replicaStats([replica])).stats.get(replica.id)).toEqual({
      cpuPercent: 12,
      memoryPercent: 40,
      memoryMiB: 0,
    });
  });

  it('leaves out a task with no figures yet', async () => {
    const [published, fresh] = [replicaOf(1), replicaOf(2)];
    if (!published || !fresh) throw new Error('no replicas');
    publishedInsights([{ replica: published, cpu: () => 10, memory: 20, memoryMiB: 30 }]);
    const { stats } = await new FargateMetrics(new CloudWatchClient({}), 'berth', () => NOW).replicaStats([
      published,
      fresh,
    ]);
    expect([...stats.keys()]).toEqual([published.id]);
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
  const stream = { logGroupName: '/berth/apps', logStreamName: 'berth-acme-web-89abcdef/app/0f1e2d3c' };

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
      ...stream,
      limit: 50,
      startFromHead: false,
    });
  });

  it('reads from the time asked for (since), a tail of it or the whole', async () => {
    logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'end' });
    const since = new Date('2026-11-22T09:00:00Z');
    const read = async (options: { tail?: number }) => {
      for await (const _ of new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps', noWait).replicaLogs(
        replica,
        { since, ...options },
      ));
    };
    await read({ tail: 50 });
    await read({});
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      { ...stream, limit: 50, startFromHead: false, startTime: since.getTime() },
      { ...stream, startFromHead: true, startTime: since.getTime() },
      // Each page of the stream from that time on.
      { ...stream, startFromHead: true, startTime: since.getTime(), nextToken: 'end' },
    ]);
  });

  it('answers 503 (UnavailableError) when AWS stays throttled or fails on its side, and rethrows a wrong request', async () => {
    const read = () =>
      new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps', noWait).replicaLogs(replica, { tail: 5 });
    const drain = async () => {
      for await (const _ of read());
    };
    const failing = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    logs.on(GetLogEventsCommand).rejects(failing('ThrottlingException', 400));
    await expect(drain()).rejects.toMatchObject({ name: 'UnavailableError', code: 'unavailable' });
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 5); // every attempt throttled
    logs.reset();
    logs.on(GetLogEventsCommand).rejects(failing('ServiceUnavailableException', 503));
    await expect(drain()).rejects.toMatchObject({ code: 'unavailable' });
    logs.reset();
    logs.on(GetLogEventsCommand).rejects(failing('AccessDeniedException', 403));
    await expect(drain()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  /** GetLogEvents as AWS validates it: a limit from 1 to 10,000, else InvalidParameterException. */
  const validatedGetLogEvents = (answer: (input: GetLogEventsCommandInput) => GetLogEventsCommandOutput) =>
    logs.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => {
      if (input.limit !== undefined && (input.limit < 1 || input.limit > 10_000))
        throw Object.assign(new Error('limit must be between 1 and 10000'), {
          name: 'InvalidParameterException',
          $metadata: { httpStatusCode: 400 },
        });
      return answer(input);
    });

  it('answers tail=0 with no lines and, following, only lines written after the request', async () => {
    validatedGetLogEvents((input) =>
      input.nextToken === 'end'
        ? { events: [{ timestamp: 0, message: 'new' }], nextForwardToken: 'after-new', $metadata: {} }
        : { events: [{ timestamp: 0, message: 'old' }], nextForwardToken: 'end', $metadata: {} },
    );
    const fargateLogs = new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps', noWait);
    const none: string[] = [];
    for await (const line of fargateLogs.replicaLogs(replica, { tail: 0 })) none.push(line);
    expect(none).toEqual([]);
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 0);

    const abort = new AbortController();
    const followed: string[] = [];
    for await (const line of fargateLogs.replicaLogs(replica, {
      tail: 0,
      follow: true,
      signal: abort.signal,
    })) {
      followed.push(line);
      abort.abort();
    }
    expect(followed.map((l) => l.split(' ')[1])).toEqual(['new']);
    expect(logs).toHaveReceivedNthCommandWith(GetLogEventsCommand, 1, { limit: 1, startFromHead: false });
  });

  it('reads the whole stream without a tail, past an empty page, to the token that comes back', async () => {
    const pages: Record<string, GetLogEventsCommandOutput> = {
      start: { events: [{ timestamp: 0, message: 'a' }], nextForwardToken: 'p1', $metadata: {} },
      p1: { events: [], nextForwardToken: 'p2', $metadata: {} },
      p2: { events: [{ timestamp: 0, message: 'b' }], nextForwardToken: 'p3', $metadata: {} },
      p3: { events: [], nextForwardToken: 'p3', $metadata: {} },
      // A read without a token starts from the stream's head only when asked to; else it answers the last page.
      last: { events: [{ timestamp: 0, message: 'b' }], nextForwardToken: 'p3', $metadata: {} },
    };
    validatedGetLogEvents(
      (input) =>
        pages[input.nextToken ?? (input.startFromHead ? 'start' : 'last')] ?? { events: [], $metadata: {} },
    );
    const lines: string[] = [];
    for await (const line of new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps').replicaLogs(
      replica,
      {},
    ))
      lines.push(line);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['a', 'b']);
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 4);
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

  it('ends a follow of a task stopped long enough ago for its last lines to be in, at the end of its stream', async () => {
    const pages: Record<string, GetLogEventsCommandOutput> = {
      start: { events: [{ timestamp: 0, message: 'a' }], nextForwardToken: 'p1', $metadata: {} },
      p1: { events: [{ timestamp: 0, message: 'exiting' }], nextForwardToken: 'p2', $metadata: {} },
      p2: { events: [], nextForwardToken: 'p2', $metadata: {} },
    };
    validatedGetLogEvents((input) => pages[input.nextToken ?? 'start'] ?? { events: [], $metadata: {} });
    const stopped = (agoMs: number) => ({
      ...replica,
      stoppedAt: new Date(Date.now() - agoMs).toISOString(),
    });
    const fargateLogs = new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps');
    const lines: string[] = [];
    const signal = AbortSignal.timeout(10_000);
    for await (const line of fargateLogs.replicaLogs(stopped(LAST_LINES_AFTER_STOP_MS), {
      follow: true,
      signal,
    }))
      lines.push(line);
    expect(signal.aborted).toBe(false);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['a', 'exiting']);
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 3);
    // With a tail, the one read backwards has it all.
    logs.resetHistory();
    for await (const _ of fargateLogs.replicaLogs(stopped(60_000), { tail: 10, follow: true, signal }));
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 1);
    // Stopped just now: lines may still come, so the follow reads the end of the stream again, until it is aborted.
    const abort = new AbortController();
    logs.reset();
    validatedGetLogEvents((input) => {
      if (logs.commandCalls(GetLogEventsCommand).length === 4) abort.abort();
      return pages[input.nextToken ?? 'start'] ?? { events: [], $metadata: {} };
    });
    for await (const _ of fargateLogs.replicaLogs(stopped(0), { follow: true, signal: abort.signal }));
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
      undefined,
      'p1',
      'p2',
      'p2',
    ]);
  });

  it('stops waiting for new lines as soon as the signal aborts', async () => {
    // Nothing new: the stream's forward token stays put, so the follow waits before it reads again.
    logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 'f1' });
    const lines = new FargateLogs(new CloudWatchLogsClient({}), '/berth/apps').replicaLogs(replica, {
      follow: true,
      signal: AbortSignal.timeout(50),
    });
    const read: string[] = [];
    for await (const line of lines) read.push(line);
    expect(read).toEqual([]);
    // The first read, the one that learned the token, then the wait that the abort cut short.
    expect(logs).toHaveReceivedCommandTimes(GetLogEventsCommand, 2);
  });
});
