import { createHash } from 'node:crypto';
import type {
  CreateServiceCommandInput,
  DeploymentConfiguration,
  LoadBalancer,
  RegisterTaskDefinitionCommandInput,
  Service,
  Tag,
  Task,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { stoppedOutsideBerth } from '../../core/app-events.ts';
import { DROPPED_CAPABILITIES } from '../../core/container-capabilities.ts';
import type { HeldWorkload, Replica, WorkloadSpec } from '../../core/ports.ts';
import { replicaEnv } from '../../core/replica-env.ts';

/** Tags that tie a service, its task definitions and (propagated) its tasks to the app; observed by them. */
export const TAGS = {
  tenant: 'berth:tenant',
  app: 'berth:app',
  appUid: 'berth:app-uid',
  revision: 'berth:revision',
  port: 'berth:port',
  /** On the service: the fingerprint of the spec last applied. */
  specHash: 'berth:spec-hash',
  /** On the service: the app's last restart, so a new one forces a new deployment. */
  restartedAt: 'berth:restarted-at',
  /** On the service: the task definition Berth last applied; ECS replacing it means ECS rolled the rollout back. */
  taskDefinition: 'berth:task-definition',
  /**
   * On the service: when ECS made the deployment of that task definition (its `createdAt`, by ECS's clock). A
   * deployment of another one that ECS made since is its rollback; one made before is what a read that does not yet
   * show the update answers, ECS's reads being eventually consistent.
   */
  deployedAt: 'berth:deployed-at',
  /** On the service: the RENDERING a spec was applied with. */
  rendering: 'berth:rendering',
  /** On the service: what its route was made for (AlbAppRoutes.routeOf), the app's name and the zone of its record. */
  route: 'berth:route',
} as const;

/**
 * What a spec is applied as, by revision: raised with every change to what applying a spec sets up (service, task
 * definition, target group, rule), so that each app is applied once more after an upgrade rather than at its next
 * change. 2: target groups drain a leaving task in 30 s.
 */
export const RENDERING = '2';

const CONTAINER = 'app';

/** A tag's value on a service. */
export const tagOf = (service: Pick<Service, 'tags'>, key: string) =>
  service.tags?.find((t) => t.key === key)?.value;

export interface FargateSettings {
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  executionRoleArn: string;
  /** A role with nothing attached: tenants' tasks get no AWS permissions by default. */
  taskRoleArn: string;
  logGroup: string;
  region: string;
}

export type AppIdentity = Pick<WorkloadSpec, 'tenantId' | 'app' | 'appUid'>;

/** One task-definition family per app: `berth-<tenant>-<app>-<uid8>` (within ECS's 255 characters). */
export const familyOf = (spec: AppIdentity) => `berth-${spec.tenantId}-${spec.app}-${spec.appUid.slice(-8)}`;

/**
 * One ECS service per app incarnation: `berth_<tenant>_<app>_<uid8>`. Tenant ids and app names are DNS labels, so
 * `_` splits them unambiguously; the uid lets a re-created app start while its predecessor's service drains.
 */
export const serviceNameOf = (spec: AppIdentity) =>
  `berth_${spec.tenantId}_${spec.app}_${spec.appUid.slice(-8)}`;

/** Tenant, app and incarnation from a service's name, or undefined for a service that is not Berth's. */
export function parseServiceName(name: string): HeldWorkload | undefined {
  const [prefix, tenantId, app, incarnation, ...rest] = name.split('_');
  return prefix === 'berth' && tenantId && app && incarnation && rest.length === 0
    ? { tenantId, app, incarnation }
    : undefined;
}

/**
 * Tenant, app and incarnation from a task's group (`service:<service name>`), or undefined for a task that is not
 * Berth's.
 */
export function parseTaskGroup(group: string | undefined): HeldWorkload | undefined {
  return group?.startsWith('service:') ? parseServiceName(group.slice('service:'.length)) : undefined;
}

/**
 * CreateService's idempotency token, from the desired state it creates (app incarnation, revision, generation): a
 * retried create never makes a second service. ECS allows 36 characters.
 */
export const clientTokenOf = (spec: Pick<WorkloadSpec, 'appUid' | 'revision' | 'generation'>) =>
  createHash('sha256')
    .update(`${spec.appUid}/r${spec.revision}/g${spec.generation}`)
    .digest('hex')
    .slice(0, 36);

const tagsOf = (spec: WorkloadSpec): Tag[] => [
  { key: TAGS.tenant, value: spec.tenantId },
  { key: TAGS.app, value: spec.app },
  { key: TAGS.appUid, value: spec.appUid },
  { key: TAGS.revision, value: String(spec.revision) },
  { key: TAGS.port, value: String(spec.port) },
];

/** What a service is applied with: its spec's fingerprint, and what its route is made for (AlbAppRoutes.routeOf). */
export interface Applied {
  specHash: string;
  route: string;
}

/** The service's own tags: the app's, plus what was applied (so an unchanged spec is never applied again). */
export const serviceTagsOf = (
  spec: WorkloadSpec,
  applied: Applied,
  taskDefinition: string,
  deployedAt: Date | undefined,
): Tag[] => [
  ...tagsOf(spec),
  { key: TAGS.specHash, value: applied.specHash },
  { key: TAGS.route, value: applied.route },
  { key: TAGS.restartedAt, value: spec.restartedAt ?? '' },
  { key: TAGS.taskDefinition, value: taskDefinition },
  { key: TAGS.deployedAt, value: deployedAt?.toISOString() ?? '' },
  { key: TAGS.rendering, value: RENDERING },
];

/**
 * What ECS runs tasks on Fargate on: Intel and AMD (X86_64) or Graviton (ARM64), chosen per revision by its image
 * (cpuArchitectureOf). Images for neither are refused.
 */
export const ECS_FARGATE_PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

/** What EKS runs pods on Fargate on: X86_64 only (EKS on Fargate has no Graviton). */
export const EKS_FARGATE_PLATFORMS = ['linux/amd64'] as const;

/**
 * The CPU architecture a revision's tasks run on: Graviton for an image built for linux/arm64 and not linux/amd64 (an
 * Apple silicon build), which X86_64 could only fail to start; X86_64 otherwise, as for every image whose platforms
 * are not known (one from another registry, never fetched).
 */
function cpuArchitectureOf(platforms: readonly string[] | undefined): 'X86_64' | 'ARM64' {
  const arm64Only = platforms?.includes('linux/arm64') && !platforms.includes('linux/amd64');
  return arm64Only ? 'ARM64' : 'X86_64';
}

/** One registration per revision: the spec's size, image, port, env and command; init process, awslogs. */
export function taskDefinitionInput(
  spec: WorkloadSpec,
  settings: FargateSettings,
): RegisterTaskDefinitionCommandInput {
  return {
    family: familyOf(spec),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(Math.round(spec.cpu * 1024)),
    memory: String(spec.memory),
    runtimePlatform: { cpuArchitecture: cpuArchitectureOf(spec.platforms), operatingSystemFamily: 'LINUX' },
    executionRoleArn: settings.executionRoleArn,
    taskRoleArn: settings.taskRoleArn,
    containerDefinitions: [
      {
        name: CONTAINER,
        image: spec.image,
        essential: true,
        ...(spec.command ? { command: spec.command } : {}),
        environment: Object.entries(replicaEnv(spec)).map(([name, value]) => ({ name, value })),
        portMappings: [{ containerPort: spec.port, protocol: 'tcp' }],
        linuxParameters: { initProcessEnabled: true, capabilities: { drop: [...DROPPED_CAPABILITIES] } },
        readonlyRootFilesystem: false,
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': settings.logGroup,
            'awslogs-region': settings.region,
            'awslogs-stream-prefix': familyOf(spec),
            mode: 'non-blocking',
            'max-buffer-size': '4m',
          },
        },
      },
    ],
    tags: tagsOf(spec),
  };
}

/**
 * Rolling deployments that keep every replica serving (new tasks first, up to twice the count), with ECS's
 * circuit breaker: a revision whose tasks keep failing is rolled back by ECS; Berth's own deadline runs alongside.
 */
const DEPLOYMENT: DeploymentConfiguration = {
  deploymentCircuitBreaker: { enable: true, rollback: true },
  minimumHealthyPercent: 100,
  maximumPercent: 200,
};

/** Where the service's tasks take traffic: the app's target group, at the revision's port. */
const loadBalancersOf = (spec: WorkloadSpec, targetGroupArn: string): LoadBalancer[] => [
  { targetGroupArn, containerName: CONTAINER, containerPort: spec.port },
];

const sameLoadBalancers = (current: LoadBalancer[] | undefined, wanted: LoadBalancer[]) =>
  current?.length === wanted.length &&
  wanted.every(
    (w, i) =>
      current[i]?.targetGroupArn === w.targetGroupArn &&
      current[i]?.containerName === w.containerName &&
      current[i]?.containerPort === w.containerPort,
  );

/** The app's service: its revision's task definition at the replica count, behind its target group. */
export function createServiceInput(
  spec: WorkloadSpec,
  taskDefinition: string,
  targetGroupArn: string,
  applied: Applied,
  settings: FargateSettings,
): CreateServiceCommandInput {
  return {
    cluster: settings.cluster,
    serviceName: serviceNameOf(spec),
    taskDefinition,
    desiredCount: spec.replicas,
    launchType: 'FARGATE',
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: settings.subnets,
        securityGroups: settings.securityGroups,
        assignPublicIp: 'DISABLED',
      },
    },
    loadBalancers: loadBalancersOf(spec, targetGroupArn),
    healthCheckGracePeriodSeconds: spec.healthCheck?.gracePeriodSeconds ?? 10,
    deploymentConfiguration: DEPLOYMENT,
    propagateTags: 'TASK_DEFINITION',
    enableECSManagedTags: true,
    enableExecuteCommand: false,
    // Its first deployment has nothing to roll back to: no time of it is needed.
    tags: serviceTagsOf(spec, applied, taskDefinition, undefined),
    clientToken: clientTokenOf(spec),
  };
}

/**
 * A change of an existing service: revision, replica count, port, grace period; a restart (the service's tag is not
 * the spec's) forces a new deployment.
 */
export function updateServiceInput(
  spec: WorkloadSpec,
  existing: Pick<Service, 'loadBalancers' | 'tags'>,
  taskDefinition: string,
  targetGroupArn: string,
  settings: FargateSettings,
): UpdateServiceCommandInput {
  const loadBalancers = loadBalancersOf(spec, targetGroupArn);
  const restartedAt = tagOf(existing, TAGS.restartedAt) ?? '';
  return {
    cluster: settings.cluster,
    service: serviceNameOf(spec),
    taskDefinition,
    desiredCount: spec.replicas,
    // Given only when they change (a revision on another port): ECS starts a new deployment for load balancers it
    // is given, which a change of the replica count alone must not.
    ...(sameLoadBalancers(existing.loadBalancers, loadBalancers) ? {} : { loadBalancers }),
    healthCheckGracePeriodSeconds: spec.healthCheck?.gracePeriodSeconds ?? 10,
    deploymentConfiguration: DEPLOYMENT,
    forceNewDeployment: restartedAt !== (spec.restartedAt ?? ''),
  };
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** What ECS says of a task it stopped for failing its load balancer's or its container's health checks. */
export const failedHealthChecks = (stoppedReason: string | undefined) =>
  /failed (ELB|container) health checks/i.test(stoppedReason ?? '');

/**
 * Stop codes of a task stopped by neither Berth's service nor the task itself: `StopTask` called outside Berth
 * (Berth never calls it), and AWS's own stops (a Fargate task retired for maintenance, a Spot interruption).
 */
const STOPPED_OUTSIDE_BERTH = new Set(['UserInitiated', 'TerminationNotice', 'SpotInterruption']);

export const isOutsideBerthStop = (stopCode: string | undefined): stopCode is string =>
  stopCode !== undefined && STOPPED_OUTSIDE_BERTH.has(stopCode);

/**
 * Why ECS stopped a task, in its words, where it says more than the exit code: why it failed to start (an image it
 * could not pull), that it was stopped outside Berth (with the reason given, if any), its container's reason
 * (`OutOfMemoryError: …`), or its failed health checks.
 */
export function taskStopReason(task: {
  stopCode?: string;
  stoppedReason?: string;
  containers?: { reason?: string }[];
}): string | undefined {
  const container = task.containers?.[0]?.reason;
  if (task.stopCode === 'TaskFailedToStart') return task.stoppedReason ?? container;
  if (isOutsideBerthStop(task.stopCode)) return stoppedOutsideBerth(task.stoppedReason ?? task.stopCode);
  if (container) return container;
  return failedHealthChecks(task.stoppedReason) ? task.stoppedReason : undefined;
}

/**
 * Whether a stopped task was stopped on request — by its service (scaled in, replaced, the app stopped or deleted) or
 * outside Berth — rather than failing: its exit code (a SIGTERM's 143) is no failure of its own. As the ECS events
 * handler tells failures apart (ecs-task-events.ts).
 */
const stoppedOnRequest = (task: Task) =>
  (task.stopCode === 'ServiceSchedulerInitiated' && !failedHealthChecks(task.stoppedReason)) ||
  isOutsideBerthStop(task.stopCode);

/**
 * A described task as a Replica (without readiness: that is the load balancer's to say); undefined if not Berth's.
 * A task that has started runs until it is STOPPED: its container goes on through DEACTIVATING (its target
 * draining), STOPPING (its grace) and DEPROVISIONING, while its desired status says it is stopping.
 */
export function replicaOf(task: Task): Replica | undefined {
  const tags = new Map((task.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  const tenantId = tags.get(TAGS.tenant);
  const appUid = tags.get(TAGS.appUid);
  if (!task.taskArn || !tenantId || !appUid) return undefined;
  const status = task.lastStatus ?? 'PROVISIONING';
  const state =
    status === 'STOPPED' || status === 'DELETED' ? 'exited' : task.startedAt ? 'running' : 'pending';
  const container = task.containers?.[0];
  const ip = container?.networkInterfaces?.[0]?.privateIpv4Address;
  const exitReason = state === 'exited' ? taskStopReason(task) : undefined;
  return {
    id: task.taskArn,
    tenantId,
    app: tags.get(TAGS.app) ?? '',
    appUid,
    revision: Number(tags.get(TAGS.revision)),
    // The service keeps the count: tasks have no generation or slot of their own.
    generation: 0,
    slot: 0,
    state,
    cpu: Number(task.cpu ?? 0) / 1024,
    memoryMiB: Number(task.memory ?? 0),
    createdAt: iso(task.createdAt) ?? new Date(0).toISOString(),
    // Fargate bills from the image pull: metering starts there when ECS reports it.
    startedAt: iso(task.pullStartedAt ?? task.startedAt),
    stoppedAt: state === 'exited' ? iso(task.stoppedAt ?? task.executionStoppedAt) : null,
    exitCode: state === 'exited' ? (container?.exitCode ?? null) : null,
    ...(exitReason ? { exitReason } : {}),
    ...(state === 'exited' && stoppedOnRequest(task) ? { stopRequested: true } : {}),
    ...(state !== 'exited' && task.desiredStatus === 'STOPPED' ? { stopping: true } : {}),
    endpoint: state === 'running' && ip ? { host: ip, port: Number(tags.get(TAGS.port)) } : null,
  };
}
