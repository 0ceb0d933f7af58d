import {
  CreateServiceCommand,
  type CreateServiceCommandInput,
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
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Tag,
  TagResourceCommand,
  type Task,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  type CreateRuleCommandInput,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

const TASK_DEFINITION_MAX_BYTES = 64 * 1024;

/**
 * ECS and the ALB as far as Berth's services adapter uses them, kept in memory. A service runs its task definition at
 * the desired count; a new task definition replaces the tasks at once (old ones stop, with their stop time); the load
 * balancer reports running tasks healthy. An image tagged `crashloop` trips the deployment circuit breaker, which rolls
 * the service back to its previous task definition; one tagged `unplaceable` gets no task, as the account's Fargate
 * vCPU quota is reached, which a service event says (the previous task definition's tasks run on). A deleted service
 * drains for one observation; task definitions are deregistered before they can be deleted, and one over 64 KiB (ECS's
 * task definition size limit) is refused; a service's load balancer must name a port its task definition's container
 * maps; reads can lag behind an update, as ECS's may (readsBehind). Answers carry only members AWS's own answers have
 * (checked against the service models), so no adapter can lean on one they lack.
 */
export function fakeEcs(clock: { now(): Date }) {
  const ecs = mockClient(ECSClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const definitions = new Map<string, RegisterTaskDefinitionCommandInput>();
  const services = new Map<string, Service>();
  const tasks = new Map<string, Task>();
  const targetGroups = new Map<string, string>();
  /** The host rules created, as DescribeRules answers them; each one's listener beside. */
  const rules: Rule[] = [];
  const listenerOf = new Map<string, string>();
  let ruleCounter = 0;
  let taskCounter = 0;

  const arnOf = (family: string, revision: number) =>
    `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}:${revision}`;
  const familyArns = (family: string) => [...definitions.keys()].filter((arn) => arn.includes(`/${family}:`));
  const inactive = new Set<string>();
  /** Each family's last revision number: as ECS's, never given again, its task definition deleted or not. */
  const lastRevision = new Map<string, number>();
  /** Each service's task definition and deployments as they were before its last update, by name. */
  const beforeUpdate = new Map<string, Pick<Service, 'taskDefinition' | 'deployments'>>();
  /** How many DescribeServices still answer from before each service's last update (readsBehind). */
  let staleReads = 0;

  const tasksOf = (service: string, status?: string) =>
    [...tasks.values()].filter(
      (t) => t.group === `service:${service}` && (!status || t.lastStatus === status),
    );

  /** Runs `count` tasks of `taskDefinition` for the service, stopping the ones of any other. */
  function converge(service: Service, taskDefinition: string, count: number) {
    const now = clock.now();
    for (const task of tasksOf(service.serviceName ?? '', 'RUNNING')) {
      if (task.taskDefinitionArn !== taskDefinition)
        Object.assign(task, { lastStatus: 'STOPPED', stoppedAt: now });
    }
    const running = tasksOf(service.serviceName ?? '', 'RUNNING');
    for (const task of running.slice(count)) Object.assign(task, { lastStatus: 'STOPPED', stoppedAt: now });
    const definition = definitions.get(taskDefinition);
    for (let i = running.length; i < count; i++) {
      taskCounter += 1;
      const taskArn = `arn:aws:ecs:eu-west-1:123456789012:task/berth/t${taskCounter}`;
      tasks.set(taskArn, {
        taskArn,
        taskDefinitionArn: taskDefinition,
        group: `service:${service.serviceName}`,
        lastStatus: 'RUNNING',
        cpu: definition?.cpu,
        memory: definition?.memory,
        createdAt: now,
        pullStartedAt: now,
        startedAt: now,
        containers: [{ networkInterfaces: [{ privateIpv4Address: `10.64.32.${taskCounter}` }] }],
        tags: definition?.tags ?? [],
      });
    }
  }

  /**
   * Starts a deployment: of another task definition, or of the same one replacing every task (`replace`); a
   * crash-looping image fails and rolls back to the previous one.
   */
  function deploy(service: Service, taskDefinition: string, count: number, replace = false) {
    const previous = service.taskDefinition;
    if (replace) {
      for (const task of tasksOf(service.serviceName ?? '', 'RUNNING'))
        Object.assign(task, { lastStatus: 'STOPPED', stoppedAt: clock.now() });
    }
    const image = definitions.get(taskDefinition)?.containerDefinitions?.[0]?.image ?? '';
    if (image.endsWith(':unplaceable')) {
      const now = clock.now();
      service.taskDefinition = taskDefinition;
      service.deployments = [
        { status: 'PRIMARY', taskDefinition, rolloutState: 'IN_PROGRESS', createdAt: now },
        ...(previous
          ? [{ status: 'ACTIVE', taskDefinition: previous, rolloutState: 'COMPLETED' as const }]
          : []),
      ];
      service.events = [
        {
          id: `e${(service.events?.length ?? 0) + 1}`,
          createdAt: now,
          message:
            `(service ${service.serviceName}) was unable to place a task. Reason: You've reached the limit on the ` +
            'number of vCPUs you can run concurrently. For more information, see the Troubleshooting section.',
        },
        ...(service.events ?? []),
      ];
      return;
    }
    if (image.endsWith(':crashloop') && previous) {
      service.deployments = [
        { status: 'PRIMARY', taskDefinition: previous, rolloutState: 'COMPLETED', createdAt: clock.now() },
        { status: 'ACTIVE', taskDefinition, rolloutState: 'FAILED', createdAt: clock.now() },
      ];
      converge(service, previous, count);
      return;
    }
    service.taskDefinition = taskDefinition;
    service.deployments = [
      { status: 'PRIMARY', taskDefinition, rolloutState: 'COMPLETED', createdAt: clock.now() },
    ];
    converge(service, taskDefinition, count);
  }

  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => {
    if (Buffer.byteLength(JSON.stringify(input)) > TASK_DEFINITION_MAX_BYTES)
      throw named('ClientException', 'Task definition size exceeds the limit of 65536 bytes.');
    const family = input.family ?? '';
    const revision = (lastRevision.get(family) ?? 0) + 1;
    lastRevision.set(family, revision);
    const taskDefinitionArn = arnOf(family, revision);
    definitions.set(taskDefinitionArn, input);
    return { taskDefinition: { taskDefinitionArn } };
  });
  ecs.on(ListTaskDefinitionsCommand).callsFake((input: { familyPrefix: string; status?: string }) => ({
    taskDefinitionArns: familyArns(input.familyPrefix).filter(
      (arn) => inactive.has(arn) === (input.status === 'INACTIVE'),
    ),
  }));
  ecs.on(DeregisterTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    inactive.add(input.taskDefinition);
    return {};
  });
  ecs.on(DeleteTaskDefinitionsCommand).callsFake((input: { taskDefinitions: string[] }) => {
    for (const arn of input.taskDefinitions) {
      if (!inactive.has(arn)) throw named('ClientException', 'only INACTIVE task definitions can be deleted');
      definitions.delete(arn);
      inactive.delete(arn);
    }
    return {};
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    // An ARN, or a family: its latest active revision.
    const arn = definitions.has(input.taskDefinition)
      ? input.taskDefinition
      : familyArns(input.taskDefinition)
          .filter((a) => !inactive.has(a))
          .at(-1);
    const definition = arn && definitions.get(arn);
    if (!definition) throw named('ClientException', 'Unable to describe task definition.');
    // As ECS answers: the tags beside the task definition (asked for with `include`), not in it.
    const { tags, ...registered } = definition;
    return { taskDefinition: { ...registered, taskDefinitionArn: arn }, tags };
  });
  /** As ECS checks: the container a service's load balancer names must map the port it names. */
  const checkPorts = (loadBalancers: Service['loadBalancers'], taskDefinition: string) => {
    const containers = definitions.get(taskDefinition)?.containerDefinitions ?? [];
    for (const { containerName, containerPort } of loadBalancers ?? []) {
      const container = containers.find((c) => c.name === containerName);
      if (!container?.portMappings?.some((m) => m.containerPort === containerPort))
        throw named(
          'InvalidParameterException',
          `The container ${containerName} did not have a container port ${containerPort} defined.`,
        );
    }
  };
  ecs.on(CreateServiceCommand).callsFake((input: CreateServiceCommandInput) => {
    checkPorts(input.loadBalancers, input.taskDefinition ?? '');
    const name = input.serviceName ?? '';
    const existing = services.get(name);
    if (existing && existing.status !== 'INACTIVE') throw named('InvalidParameterException', 'exists');
    const service = {
      serviceName: name,
      serviceArn: `arn:aws:ecs:eu-west-1:123456789012:service/berth/${name}`,
      status: 'ACTIVE',
      desiredCount: input.desiredCount,
      tags: input.tags ?? [],
      loadBalancers: input.loadBalancers,
    };
    services.set(name, service);
    deploy(service, input.taskDefinition ?? '', input.desiredCount ?? 0);
    return { service };
  });
  ecs.on(UpdateServiceCommand).callsFake((input: UpdateServiceCommandInput) => {
    const service = services.get(input.service ?? '');
    if (service?.status !== 'ACTIVE') throw named('ServiceNotActiveException', 'not active');
    checkPorts(
      input.loadBalancers ?? service.loadBalancers,
      input.taskDefinition ?? service.taskDefinition ?? '',
    );
    if (input.loadBalancers) service.loadBalancers = input.loadBalancers;
    beforeUpdate.set(service.serviceName ?? '', {
      taskDefinition: service.taskDefinition,
      deployments: structuredClone(service.deployments),
    });
    service.desiredCount = input.desiredCount;
    // As ECS documents it: load balancers given start a new deployment, as a forced one does, replacing every task.
    const replace = Boolean(input.forceNewDeployment || input.loadBalancers);
    if (input.taskDefinition !== service.taskDefinition || replace) {
      deploy(service, input.taskDefinition ?? '', input.desiredCount ?? 0, replace);
    } else {
      converge(service, service.taskDefinition ?? '', input.desiredCount ?? 0);
    }
    return { service };
  });
  ecs.on(TagResourceCommand).callsFake((input: { resourceArn: string; tags: Tag[] }) => {
    const service = [...services.values()].find((s) => s.serviceArn === input.resourceArn);
    if (!service) throw named('ResourceNotFoundException', 'no such resource');
    const keys = new Set(input.tags.map((t) => t.key));
    service.tags = [...(service.tags ?? []).filter((t) => !keys.has(t.key)), ...input.tags];
    return {};
  });
  ecs.on(DeleteServiceCommand).callsFake((input: { service: string }) => {
    const service = services.get(input.service);
    if (service?.status !== 'ACTIVE') throw named('ServiceNotActiveException', 'not active');
    service.status = 'DRAINING';
    converge(service, '', 0);
    return { service };
  });
  ecs.on(ListServicesCommand).callsFake((input: { maxResults?: number; nextToken?: string }) => {
    // ACTIVE and DRAINING services, a page at a time.
    const arns = [...services.values()].filter((s) => s.status !== 'INACTIVE').map((s) => s.serviceArn ?? '');
    const from = Number(input.nextToken ?? 0);
    const to = from + (input.maxResults ?? 10);
    return { serviceArns: arns.slice(from, to), ...(to < arns.length ? { nextToken: String(to) } : {}) };
  });
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    const found = input.services.flatMap((name) => {
      const service = services.get(name);
      if (!service) return [];
      const running = tasksOf(name, 'RUNNING').length;
      const stale = staleReads > 0 ? beforeUpdate.get(name) : undefined;
      const seen = { ...service, ...stale, runningCount: running, pendingCount: 0 };
      if (service.status === 'DRAINING') service.status = 'INACTIVE'; // drained by the next look
      return [seen];
    });
    if (staleReads > 0) staleReads -= 1;
    return { services: found };
  });
  ecs.on(ListTasksCommand).callsFake((input: { serviceName?: string; desiredStatus: string }) => ({
    taskArns: [...tasks.values()]
      .filter((t) => !input.serviceName || t.group === `service:${input.serviceName}`)
      .filter((t) => t.lastStatus === input.desiredStatus)
      .map((t) => t.taskArn),
  }));
  ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
    tasks: input.tasks.flatMap((arn) => {
      const task = tasks.get(arn);
      return task ? [task] : [];
    }),
  }));

  elb.on(CreateTargetGroupCommand).callsFake((input: { Name: string }) => {
    const arn = targetGroups.get(input.Name) ?? `arn:tg:${input.Name}`;
    targetGroups.set(input.Name, arn);
    return { TargetGroups: [{ TargetGroupArn: arn }] };
  });
  elb.on(DescribeTargetGroupsCommand).callsFake((input: { Names: string[] }) => {
    const arn = targetGroups.get(input.Names[0] ?? '');
    if (!arn) throw named('TargetGroupNotFoundException', 'no such target group');
    return { TargetGroups: [{ TargetGroupArn: arn }] };
  });
  // As ELB answers: a listener's rules, then its default rule; neither the listener nor the tags are in a rule.
  elb.on(DescribeRulesCommand).callsFake((input: { ListenerArn: string }) => ({
    Rules: [
      ...rules.filter((r) => listenerOf.get(r.RuleArn ?? '') === input.ListenerArn),
      { RuleArn: `${input.ListenerArn}/default`, Priority: 'default', IsDefault: true, Conditions: [] },
    ],
  }));
  elb.on(CreateRuleCommand).callsFake((input: CreateRuleCommandInput) => {
    const { ListenerArn, Tags, Priority, ...rule } = input;
    const ofListener = rules.filter((r) => listenerOf.get(r.RuleArn ?? '') === ListenerArn);
    if (ofListener.some((r) => r.Priority === String(Priority))) {
      throw named('PriorityInUseException', 'the priority is in use');
    }
    ruleCounter += 1;
    const RuleArn = `arn:rule:${ruleCounter}`;
    listenerOf.set(RuleArn, ListenerArn ?? '');
    rules.push({ ...rule, RuleArn, Priority: String(Priority), IsDefault: false });
    return {};
  });
  elb.on(DeleteRuleCommand).callsFake((input: { RuleArn: string }) => {
    const at = rules.findIndex((r) => r.RuleArn === input.RuleArn);
    if (at === -1) throw named('RuleNotFoundException', 'One or more rules not found');
    rules.splice(at, 1);
    listenerOf.delete(input.RuleArn);
    return {};
  });
  elb.on(DeleteTargetGroupCommand).callsFake((input: { TargetGroupArn: string }) => {
    const user = [...services.values()].find(
      (s) => s.loadBalancers?.[0]?.targetGroupArn === input.TargetGroupArn && s.status !== 'INACTIVE',
    );
    if (user) throw named('ResourceInUseException', 'in use by a service');
    for (const [name, arn] of targetGroups) if (arn === input.TargetGroupArn) targetGroups.delete(name);
    return {};
  });
  elb.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string }) => ({
    TargetHealthDescriptions: [...services.values()]
      .filter((s) => s.loadBalancers?.[0]?.targetGroupArn === input.TargetGroupArn)
      .flatMap((s) => tasksOf(s.serviceName ?? '', 'RUNNING'))
      .map((t) => ({
        Target: { Id: t.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address, Port: 8080 },
        TargetHealth: { State: 'healthy' },
      })),
  }));

  return {
    ecs,
    elb,
    definitions,
    services,
    tasks,
    targetGroups,
    rules,
    /**
     * The next `reads` DescribeServices answer each service's task definition and deployments as they were before
     * its last update, its tags as they are: ECS's reads are eventually consistent.
     */
    readsBehind(reads: number) {
      staleReads = reads;
    },
    restore() {
      ecs.restore();
      elb.restore();
    },
  };
}
