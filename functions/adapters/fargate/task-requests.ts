import { createHash } from 'node:crypto';
import type { RegisterTaskDefinitionCommandInput, RunTaskCommandInput, Tag, Task } from '@aws-sdk/client-ecs';
import type { Replica, ReplicaSpec } from '../../core/ports.ts';

/** Tags that tie a task (and its task definition) to its app; the adapter observes by them. */
export const TAGS = {
  tenant: 'berth:tenant',
  app: 'berth:app',
  appUid: 'berth:app-uid',
  revision: 'berth:revision',
  generation: 'berth:generation',
  slot: 'berth:slot',
  port: 'berth:port',
} as const;

/** Every task Berth starts says so; ListTasks filters on it. */
export const STARTED_BY = 'berth';
const CONTAINER = 'app';

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

/** One task-definition family per app: `berth-<tenant>-<app>-<uid8>` (within ECS's 255 characters). */
export const familyOf = (spec: Pick<ReplicaSpec, 'tenantId' | 'app' | 'appUid'>) =>
  `berth-${spec.tenantId}-${spec.app}-${spec.appUid.slice(-8)}`;

/**
 * The task group names tenant and app (DNS labels, so `:` splits them unambiguously): ECS task events carry the
 * group but not the tags.
 */
export const taskGroupOf = (spec: Pick<ReplicaSpec, 'tenantId' | 'app'>) =>
  `berth:${spec.tenantId}:${spec.app}`;

/** Tenant and app from a task group, or undefined for a task that is not Berth's. */
export function parseTaskGroup(group: string | undefined): { tenantId: string; app: string } | undefined {
  const [prefix, tenantId, app, ...rest] = (group ?? '').split(':');
  return prefix === 'berth' && tenantId && app && rest.length === 0 ? { tenantId, app } : undefined;
}

/**
 * RunTask's idempotency token: the same replica (app incarnation, revision, generation, slot) always gets the same
 * token, so a retried or repeated start never launches a second task. ECS allows 64 characters.
 */
export const clientTokenOf = (spec: Pick<ReplicaSpec, 'appUid' | 'revision' | 'generation' | 'slot'>) =>
  createHash('sha256')
    .update(`${spec.appUid}/r${spec.revision}/g${spec.generation}/s${spec.slot}`)
    .digest('hex')
    .slice(0, 64);

const tagsOf = (spec: ReplicaSpec, withReplica: boolean): Tag[] => [
  { key: TAGS.tenant, value: spec.tenantId },
  { key: TAGS.app, value: spec.app },
  { key: TAGS.appUid, value: spec.appUid },
  { key: TAGS.revision, value: String(spec.revision) },
  { key: TAGS.port, value: String(spec.port) },
  ...(withReplica
    ? [
        { key: TAGS.generation, value: String(spec.generation) },
        { key: TAGS.slot, value: String(spec.slot) },
      ]
    : []),
];

/** One registration per revision: the spec's size, image, port, env and command; init process, awslogs. */
export function taskDefinitionInput(
  spec: ReplicaSpec,
  settings: FargateSettings,
): RegisterTaskDefinitionCommandInput {
  const env: Record<string, string> = { PORT: String(spec.port), ...spec.env };
  env.BERTH_APP = spec.app;
  env.BERTH_REVISION = String(spec.revision);
  return {
    family: familyOf(spec),
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(Math.round(spec.cpu * 1024)),
    memory: String(spec.memory),
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    executionRoleArn: settings.executionRoleArn,
    taskRoleArn: settings.taskRoleArn,
    containerDefinitions: [
      {
        name: CONTAINER,
        image: spec.image,
        essential: true,
        ...(spec.command ? { command: spec.command } : {}),
        environment: Object.entries(env).map(([name, value]) => ({ name, value })),
        portMappings: [{ containerPort: spec.port, protocol: 'tcp' }],
        linuxParameters: { initProcessEnabled: true },
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
    tags: tagsOf(spec, false),
  };
}

export function runTaskInput(
  spec: ReplicaSpec,
  taskDefinitionArn: string,
  settings: FargateSettings,
): RunTaskCommandInput {
  return {
    cluster: settings.cluster,
    taskDefinition: taskDefinitionArn,
    launchType: 'FARGATE',
    count: 1,
    startedBy: STARTED_BY,
    group: taskGroupOf(spec),
    clientToken: clientTokenOf(spec),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: settings.subnets,
        securityGroups: settings.securityGroups,
        assignPublicIp: 'DISABLED',
      },
    },
    enableExecuteCommand: false,
    tags: tagsOf(spec, true),
  };
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** A described task as a Replica; undefined for tasks that are not Berth's. */
export function replicaOf(task: Task): Replica | undefined {
  const tags = new Map((task.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  const tenantId = tags.get(TAGS.tenant);
  const appUid = tags.get(TAGS.appUid);
  if (!task.taskArn || !tenantId || !appUid) return undefined;
  const status = task.lastStatus ?? 'PROVISIONING';
  const state =
    status === 'RUNNING' ? 'running' : status === 'STOPPED' || status === 'DELETED' ? 'exited' : 'pending';
  const container = task.containers?.[0];
  const ip = container?.networkInterfaces?.[0]?.privateIpv4Address;
  return {
    id: task.taskArn,
    tenantId,
    app: tags.get(TAGS.app) ?? '',
    appUid,
    revision: Number(tags.get(TAGS.revision)),
    generation: Number(tags.get(TAGS.generation)),
    slot: Number(tags.get(TAGS.slot)),
    state,
    cpu: Number(task.cpu ?? 0) / 1024,
    memoryMiB: Number(task.memory ?? 0),
    createdAt: iso(task.createdAt) ?? new Date(0).toISOString(),
    // Fargate bills from the image pull: metering starts there when ECS reports it.
    startedAt: iso(task.pullStartedAt ?? task.startedAt),
    stoppedAt: state === 'exited' ? iso(task.stoppedAt ?? task.executionStoppedAt) : null,
    exitCode: state === 'exited' ? (container?.exitCode ?? null) : null,
    endpoint: state === 'running' && ip ? { host: ip, port: Number(tags.get(TAGS.port)) } : null,
  };
}
