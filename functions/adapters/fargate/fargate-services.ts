import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { chunks } from '../../core/chunks.ts';
import { mapWithLimit } from '../../core/map-with-limit.ts';
import type {
  AppRecord,
  HeldWorkload,
  ObservedWorkload,
  Replica,
  ReplicaFilter,
  WorkloadRuntime,
  WorkloadSpec,
} from '../../core/ports.ts';
import { workloadHash } from '../../core/workloads.ts';
import type { AlbAppRoutes } from '../alb/alb-app-routes.ts';
import { CALLS_IN_FLIGHT, inBatches } from '../aws/chunks.ts';
import { allPages } from '../aws/pages.ts';
import { isAwsError, type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { FargateTasks } from './fargate-tasks.ts';
import {
  type AppIdentity,
  createServiceInput,
  type FargateSettings,
  familyOf,
  parseServiceName,
  RENDERING,
  replicaOf,
  serviceNameOf,
  serviceTagsOf,
  TAGS,
  tagOf,
  taskDefinitionInput,
  updateServiceInput,
} from './task-requests.ts';

/** DescribeServices takes at most this many services per call, DeleteTaskDefinitions this many definitions. */
const DESCRIBE_SERVICES_BATCH = 10;
const DELETE_TASK_DEFINITIONS_BATCH = 10;
/** ListServices and ListTaskDefinitions answer at most this many a page. */
const LIST_SERVICES_PAGE = 100;
const LIST_TASK_DEFINITIONS_PAGE = 100;
/**
 * The most revisions of a family an apply retires: a deploy retires the one before the last (one), and a family
 * grown before applies retired any goes down this many a deploy, so no apply spends its pass on it.
 */
const RETIRED_PER_APPLY = 10;

/** Whether `arn` is a revision of `family` itself: a prefix of ListTaskDefinitions also matches longer names. */
const isRevisionOf = (arn: string, family: string) => arn.split('/').pop()?.startsWith(`${family}:`) ?? false;

type AppName = Pick<AppRecord, 'name' | 'uid'>;

/**
 * Apps on ECS Fargate as services: one per app, its revision's task definition at the replica count, behind a
 * target group and host rule on the shared ALB. ECS rolls out (new tasks first) with its deployment circuit breaker
 * and registers tasks with the load balancer; Berth applies a spec only when its fingerprint changed, and watches:
 * per tenant, DescribeServices in tens, then for each app not at rest one ListTasks and one target-health read, and
 * DescribeTasks in hundreds.
 */
export class FargateServices implements WorkloadRuntime {
  private readonly tasks: FargateTasks;

  constructor(
    private readonly ecs: ECSClient,
    private readonly routes: AlbAppRoutes,
    private readonly settings: FargateSettings,
    private readonly retry: RetryOptions = {},
  ) {
    this.tasks = new FargateTasks(ecs, settings.cluster, retry);
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.retry);
  }

  /** Tenants share the cluster; their plans' limits are Berth's quotas, checked before anything is applied. */
  async ensureTenant(): Promise<void> {}

  async removeTenant(): Promise<void> {}

  async observe(
    tenantId: string,
    apps: readonly AppName[],
  ): Promise<{ workloads: ObservedWorkload[]; replicas: Replica[] }> {
    const services = await this.services(
      apps.map((a) => serviceNameOf({ tenantId, app: a.name, appUid: a.uid })),
    );
    const workloads = services.map((service): ObservedWorkload => {
      const steady = steadyOf(service);
      const notStarting = steady ? undefined : notStartingOf(service);
      const app = tagOf(service, TAGS.app) ?? '';
      // Applied as an older Berth did, or its route made for the app's name under the install's earlier domain or
      // zone: no spec matches it, so the pass applies the app's spec again.
      const current =
        tagOf(service, TAGS.rendering) === RENDERING &&
        tagOf(service, TAGS.route) === this.routes.routeOf(tenantId, app);
      return {
        app,
        specHash: current ? (tagOf(service, TAGS.specHash) ?? '') : '',
        rolloutFailure: rolledBack(service)
          ? "ECS's deployment circuit breaker stopped the rollout: its tasks failed (the app's events say why)"
          : null,
        ...(steady ? { steady } : {}),
        ...(notStarting ? { notStarting } : {}),
      };
    });
    const watched = services.filter((_, i) => !workloads[i]?.steady);
    const perService = await mapWithLimit(watched, CALLS_IN_FLIGHT, async (service) => {
      const targetGroup = service.loadBalancers?.[0]?.targetGroupArn;
      const [arns, health] = await Promise.all([
        this.tasks.list({ serviceName: service.serviceName, desiredStatus: 'RUNNING' }),
        targetGroup ? this.routes.targetGroups.healthOf(targetGroup) : new Map<string, string>(),
      ]);
      return { arns, health };
    });
    const health = new Map(perService.flatMap((s) => [...s.health]));
    const replicas = (await this.tasks.describe(perService.flatMap((s) => s.arns))).flatMap((task) => {
      const replica = replicaOf(task);
      if (!replica) return [];
      const target = replica.endpoint && health.get(`${replica.endpoint.host}:${replica.endpoint.port}`);
      return [{ ...replica, ready: target === 'healthy' }];
    });
    return { workloads, replicas };
  }

  async applyWorkload(spec: WorkloadSpec): Promise<{ refused: string } | undefined> {
    const registered = await this.taskDefinitionArn(spec);
    if ('refused' in registered) return registered;
    const { arn: taskDefinition, fresh } = registered;
    const targetGroupArn = await this.routes.ensure(spec);
    const applied = { specHash: workloadHash(spec), route: this.routes.routeOf(spec.tenantId, spec.app) };
    const [existing] = await this.services([serviceNameOf(spec)]);
    if (!existing) {
      const input = createServiceInput(spec, taskDefinition, targetGroupArn, applied, this.settings);
      await this.call(() => this.ecs.send(new CreateServiceCommand(input)));
      return undefined;
    }
    const updated = await this.call(() =>
      this.ecs.send(
        new UpdateServiceCommand(
          updateServiceInput(spec, existing, taskDefinition, targetGroupArn, this.settings),
        ),
      ),
    );
    const deployedAt = updated.service?.deployments?.find(
      (d) => d.taskDefinition === taskDefinition,
    )?.createdAt;
    // Tagged after the update: a failed update is applied again on the next pass.
    await this.call(() =>
      this.ecs.send(
        new TagResourceCommand({
          resourceArn: existing.serviceArn,
          tags: serviceTagsOf(spec, applied, taskDefinition, deployedAt),
        }),
      ),
    );
    if (fresh) {
      const running = (existing.deployments ?? []).flatMap((d) =>
        d.taskDefinition ? [d.taskDefinition] : [],
      );
      await this.retireTaskDefinitions(familyOf(spec), new Set([taskDefinition, ...running]));
    }
    return undefined;
  }

  /**
   * Deregisters and deletes the family's active revisions that none of the service's deployments runs (`inUse`),
   * the oldest first, at most RETIRED_PER_APPLY: a revision is registered for each deployment (a rollback too), and
   * every one left active would be a call each when the app is removed, a pass's whole time for an app deployed a
   * few thousand times. Those the service runs stay, so ECS's circuit breaker can go back to the one it replaces
   * (ECS updates no service to a deregistered revision). ECS keeps a deleted revision until no task runs it.
   */
  private async retireTaskDefinitions(family: string, inUse: Set<string>): Promise<void> {
    const { taskDefinitionArns = [] } = await this.call(() =>
      this.ecs.send(
        new ListTaskDefinitionsCommand({
          familyPrefix: family,
          status: 'ACTIVE',
          sort: 'ASC',
          maxResults: LIST_TASK_DEFINITIONS_PAGE,
        }),
      ),
    );
    const retired = taskDefinitionArns
      .filter((arn) => isRevisionOf(arn, family) && !inUse.has(arn))
      .slice(0, RETIRED_PER_APPLY);
    await this.deregisterAndDelete(retired);
  }

  /**
   * Deletes the service (ECS stops its tasks), then, once ECS has let go of them, the app's route and its task
   * definitions: everything the app left in the account.
   */
  async deleteWorkload(tenantId: string, app: AppName): Promise<boolean> {
    const identity = { tenantId, app: app.name, appUid: app.uid };
    if ((await this.deleteService(identity)) !== 'gone' || !(await this.routes.remove(tenantId, app.name)))
      return false;
    await this.deleteTaskDefinitions(familyOf(identity));
    return true;
  }

  /**
   * Deletes the service of an app incarnation (ECS stops its tasks): `deleted` now, `draining` when an earlier
   * call did, `gone` once ECS has let go of it.
   */
  private async deleteService(identity: AppIdentity): Promise<'deleted' | 'draining' | 'gone'> {
    const service = serviceNameOf(identity);
    const [existing] = await this.services([service]);
    if (existing?.status !== 'ACTIVE') return existing ? 'draining' : 'gone';
    try {
      await this.call(() =>
        this.ecs.send(new DeleteServiceCommand({ cluster: this.settings.cluster, service, force: true })),
      );
    } catch (err) {
      // No longer active: deleted by a try whose answer was lost (the SDK sent it again), or by another pass.
      if (isAwsError(err, 'ServiceNotActiveException')) return 'draining';
      throw err;
    }
    return 'deleted';
  }

  /**
   * Berth's services in the cluster (ACTIVE or DRAINING), ListServices a hundred at a time. No tenant has a home of
   * its own here.
   */
  async holdings(): Promise<{ homes: string[]; workloads: HeldWorkload[] }> {
    const held: HeldWorkload[] = [];
    const pages = allPages(
      (nextToken) =>
        this.ecs.send(
          new ListServicesCommand({
            cluster: this.settings.cluster,
            maxResults: LIST_SERVICES_PAGE,
            nextToken,
          }),
        ),
      (page) => page.nextToken,
      this.retry,
    );
    for await (const page of pages) {
      for (const arn of page.serviceArns ?? []) {
        const workload = parseServiceName(arn.split('/').pop() ?? '');
        if (workload) held.push(workload);
      }
    }
    return { homes: [], workloads: held };
  }

  /**
   * Deletes an orphan's service and task definitions at once (ECS lets running tasks finish with a deleted
   * definition), and, when no app has its name, its route: the rule and record now, the target group once ECS has
   * let go of it (a later sweep, while the service still drains).
   */
  async removeOrphan(workload: HeldWorkload, routeFree: boolean): Promise<boolean> {
    const identity = { tenantId: workload.tenantId, app: workload.app, appUid: workload.incarnation };
    const stopped = (await this.deleteService(identity)) === 'deleted';
    await this.deleteTaskDefinitions(familyOf(identity));
    if (routeFree) await this.routes.remove(workload.tenantId, workload.app);
    return stopped;
  }

  /**
   * Deregisters every revision of the family, then deletes them. Both lists are read whole before anything changes:
   * deregistering moves a revision from one list to the other, which must not shift the pages still to be read.
   */
  private async deleteTaskDefinitions(family: string): Promise<void> {
    const active = await this.taskDefinitions(family, 'ACTIVE');
    const inactive = await this.taskDefinitions(family, 'INACTIVE');
    await this.deregisterAndDelete(active, inactive);
  }

  /** Deregisters the `active` revisions, a call each, then deletes them and the `inactive` ones, ten a call. */
  private async deregisterAndDelete(active: string[], inactive: string[] = []): Promise<void> {
    for (const taskDefinition of active) {
      await this.call(() => this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition })));
    }
    for (const taskDefinitions of chunks(
      [...new Set([...active, ...inactive])],
      DELETE_TASK_DEFINITIONS_BATCH,
    )) {
      await this.call(() => this.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions })));
    }
  }

  /** The ARNs of the family's revisions with `status`, every page. */
  private async taskDefinitions(family: string, status: 'ACTIVE' | 'INACTIVE'): Promise<string[]> {
    const arns: string[] = [];
    const pages = allPages(
      (nextToken) =>
        this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken })),
      (page) => page.nextToken,
      this.retry,
    );
    for await (const page of pages) {
      arns.push(...(page.taskDefinitionArns ?? []).filter((arn) => isRevisionOf(arn, family)));
    }
    return arns;
  }

  /** ECS forgets stopped tasks itself; their stop reaches the meter through the task's state-change event. */
  async releaseReplica(): Promise<void> {}

  listReplicas(filter: ReplicaFilter = {}): Promise<Replica[]> {
    return this.tasks.listReplicas(filter);
  }

  /** The named services that exist (not yet deleted to INACTIVE), with their tags. */
  private async services(names: string[]): Promise<Service[]> {
    const described = await inBatches(names, DESCRIBE_SERVICES_BATCH, async (services) => {
      const res = await this.call(() =>
        this.ecs.send(
          new DescribeServicesCommand({ cluster: this.settings.cluster, services, include: ['TAGS'] }),
        ),
      );
      return res.services ?? [];
    });
    return described.filter((s) => s.status !== 'INACTIVE');
  }

  /**
   * The task definition of the spec's revision: the family's latest when it is that revision's, else a new one
   * (`fresh`); or ECS's refusal of it (a ClientException: its inputs are the spec's, such as an env and command too
   * large for a task definition, which no retry changes).
   */
  private async taskDefinitionArn(
    spec: WorkloadSpec,
  ): Promise<{ arn: string; fresh: boolean } | { refused: string }> {
    const latest = await this.latestTaskDefinition(familyOf(spec));
    const revision = latest?.tags?.find((t) => t.key === TAGS.revision)?.value;
    const arn = latest?.taskDefinition?.taskDefinitionArn;
    const image = latest?.taskDefinition?.containerDefinitions?.[0]?.image;
    if (arn && revision === String(spec.revision) && image === spec.image) return { arn, fresh: false };
    try {
      const registered = await this.call(() =>
        this.ecs.send(new RegisterTaskDefinitionCommand(taskDefinitionInput(spec, this.settings))),
      );
      const registeredArn = registered.taskDefinition?.taskDefinitionArn;
      if (!registeredArn) throw new Error(`ECS registered no task definition for ${familyOf(spec)}`);
      return { arn: registeredArn, fresh: true };
    } catch (err) {
      if (isAwsError(err, 'ClientException'))
        return { refused: `ECS refused the task definition: ${(err as Error).message}` };
      throw err;
    }
  }

  /**
   * The family's latest active revision with its tags, undefined before its first: named by the family itself,
   * which (unlike ListTaskDefinitions' prefix) matches no other app's family that merely starts the same.
   */
  private async latestTaskDefinition(family: string) {
    try {
      return await this.call(() =>
        this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] })),
      );
    } catch (err) {
      // ECS's answer for a family with no active revision.
      if (isAwsError(err, 'ClientException')) return undefined;
      throw err;
    }
  }
}

/**
 * What ECS says, in a service event, when it cannot start a task (no task is made, so none stops to tell it), and
 * its words after the service's name.
 */
const NOT_STARTING = /^\(service [^)]*\) ((?:was unable to place a task|failed to launch a task)[\s\S]*)/;

/**
 * Why ECS cannot start the service's tasks, in its words without the service's name (`ECS was unable to place a task.
 * Reason: You've reached the limit on the number of vCPUs you can run concurrently. …`), when the newest event since
 * its latest deployment began says so; undefined once a later event says otherwise (tasks started, a steady state).
 */
function notStartingOf(service: Service): string | undefined {
  const since = Math.max(0, ...(service.deployments ?? []).map((d) => d.createdAt?.getTime() ?? 0));
  // ECS lists a service's events newest first.
  const [newest] = (service.events ?? []).filter((event) => (event.createdAt?.getTime() ?? 0) >= since);
  const words = NOT_STARTING.exec(newest?.message ?? '')?.[1];
  return words && `ECS ${words}`;
}

/**
 * A service ECS has at rest: one deployment, of the task definition Berth applied, completed, with every task it
 * wants running. Its tasks need no listing: they are that many replicas of the service's revision, all ready (behind
 * a load balancer ECS completes a deployment only once its tasks pass the health check, and replaces one that fails
 * it later). Most services are at rest most of the time, so this spares most of ECS's read calls.
 */
function steadyOf(service: Service): ObservedWorkload['steady'] {
  const [deployment, ...others] = service.deployments ?? [];
  const revision = Number(tagOf(service, TAGS.revision));
  const atRest =
    service.status === 'ACTIVE' &&
    others.length === 0 &&
    deployment?.rolloutState === 'COMPLETED' &&
    deployment.taskDefinition === tagOf(service, TAGS.taskDefinition) &&
    !service.pendingCount &&
    service.runningCount === service.desiredCount &&
    Number.isInteger(revision);
  return atRest ? { revision, replicas: service.runningCount ?? 0 } : undefined;
}

/**
 * ECS gave up on the rollout Berth applied: its circuit breaker failed the deployment, or rolled the service back
 * to another task definition.
 */
function rolledBack(service: Service): boolean {
  const applied = tagOf(service, TAGS.taskDefinition);
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  // Without the tag (a service applied by an earlier Berth, or just created), any other PRIMARY counts.
  const deployedAt = Date.parse(tagOf(service, TAGS.deployedAt) ?? '');
  const madeSince = Number.isNaN(deployedAt) || (primary?.createdAt?.getTime() ?? 0) > deployedAt;
  return (
    (service.deployments ?? []).some((d) => d.taskDefinition === applied && d.rolloutState === 'FAILED') ||
    Boolean(applied && primary && primary.taskDefinition !== applied && madeSince)
  );
}
