import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, deleteApp, getAppRecord, scaleApp } from '../../../functions/core/apps.ts';
import { deploy, listDeployments } from '../../../functions/core/deployments.ts';
import { updateTenant } from '../../../functions/core/tenants.ts';
import { meterUsage } from '../../../functions/jobs/meter.ts';
import { SWEEP_EVERY_MS } from '../../../functions/jobs/workload-reconcile.ts';
import { expectBackOnSupersededFirst } from '../../support/deployment-history.ts';
import { fargateWorld } from '../../support/fargate-world.ts';

const web = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
/** An env and a command together past ECS's 64 KiB task definition size, each within the API's own limits. */
const TOO_LARGE_FOR_ECS = {
  env: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`BLOB_${i}`, 'x'.repeat(4000)])),
  command: ['sh', ...Array.from({ length: 9 }, () => 'y'.repeat(4000))],
};

describe('WorkloadReconciler on Fargate services (ECS and the ALB in memory)', () => {
  let setup: Awaited<ReturnType<typeof fargateWorld>>;

  beforeEach(async () => {
    setup = await fargateWorld();
  });
  afterEach(() => setup.aws.restore());

  it('runs an app as one service behind its host rule; a tick at rest changes and lists nothing', async () => {
    const { deps, aws, pass, runtime } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      status: 'running',
      readyReplicas: 2,
      currentRevision: 1,
    });
    // Its deployment went through every phase in the pass that found its tasks serving.
    const at = '2026-11-22T10:00:11.000Z';
    expect(await listDeployments(deps, 'acme', 'web', { limit: 1 })).toMatchObject({
      items: [
        { status: 'succeeded', failedStarts: 0, phases: { pull: at, start: at, healthy: at, traffic: at } },
      ],
    });
    expect(aws.ecs).toHaveReceivedCommandTimes(CreateServiceCommand, 1);
    expect(aws.rules.map((r) => r.Conditions?.[0]?.HostHeaderConfig?.Values)).toEqual([
      ['web--acme.apps.example.com'],
    ]);
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(CreateServiceCommand);
    expect(aws.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(aws.ecs).not.toHaveReceivedCommand(TagResourceCommand);
    expect(aws.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    // At rest, the service's tasks are not even listed: ECS vouches for them.
    expect(aws.ecs).not.toHaveReceivedCommand(ListTasksCommand);
    expect(aws.ecs).not.toHaveReceivedCommand(DescribeTasksCommand);
    expect(aws.elb).not.toHaveReceivedCommand(DescribeTargetHealthCommand);
    // The meter, which lists the cluster, meters running tasks from their image pull at their task size.
    await meterUsage({ ...deps, runtime });
    const lifetimes = [...deps.meter.open.values()];
    expect(lifetimes).toHaveLength(2);
    expect(lifetimes.every((l) => l.cpu === 0.25 && l.memoryMiB === 512 && l.app === 'web')).toBe(true);
  });

  it("moves the service's load balancer to a new revision's port, and goes live there", async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { port: 9090 });
    await pass();
    await pass();
    expect(aws.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      loadBalancers: [expect.objectContaining({ containerName: 'app', containerPort: 9090 })],
    });
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', currentRevision: 2 });
    expect(await listDeployments(deps, 'acme', 'web', { limit: 1 })).toMatchObject({
      items: [{ revision: 2, status: 'succeeded' }],
    });
  });

  it('applies an app once more after an upgrade changed what applying sets up, replacing no task', async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    // As the Berth before RENDERING 2 left it: no rendering tag, a target group on ALB's default drain time.
    const [service] = [...aws.services.values()];
    if (!service) throw new Error('no service');
    service.tags = service.tags?.filter((t) => t.key !== 'berth:rendering');
    const tasksBefore = [...aws.tasks.keys()];
    aws.ecs.resetHistory();
    aws.elb.resetHistory();
    await pass();
    expect(aws.elb).toHaveReceivedCommandWith(ModifyTargetGroupAttributesCommand, {
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    });
    expect(aws.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { forceNewDeployment: false });
    expect([...aws.tasks.keys()]).toEqual(tasksBefore);
    expect([...aws.tasks.values()].every((t) => t.lastStatus === 'RUNNING')).toBe(true);
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('scales with the same task definition', async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await scaleApp(deps, 'acme', 'web', 3);
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(aws.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      desiredCount: 3,
      forceNewDeployment: false,
    });
    // One more task beside the two there: none replaced.
    const running = [...aws.tasks.values()].filter((t) => t.lastStatus === 'RUNNING');
    expect(running).toHaveLength(3);
    expect([...aws.tasks.values()].filter((t) => t.lastStatus !== 'RUNNING')).toEqual([]);
  });

  it("takes a suspended tenant's service to zero tasks, and back with its deployment when reactivated", async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    // One pass: the service is created, its deployment still under way when the tenant is suspended.
    await pass();
    await updateTenant(deps, 'acme', { status: 'suspended' });
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 0 });
    await pass();
    expect([...aws.tasks.values()].filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(0);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'suspended', readyReplicas: 0 });
    // Nothing ran, which proves nothing of revision 1: its deployment waits rather than succeeding.
    expect(await listDeployments(deps, 'acme', 'web', { limit: 1 })).toMatchObject({
      items: [{ status: 'in_progress' }],
    });

    await updateTenant(deps, 'acme', { status: 'active' });
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(aws.ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { desiredCount: 2 });
    await pass();
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', readyReplicas: 2 });
    expect(deps.store.events.map((e) => e.type)).toEqual(['deploying', 'suspended', 'resumed', 'deployed']);
  });

  it("ends a revision ECS's circuit breaker rolled back rolled_back, and takes the app back to the last good revision", async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:crashloop' });
    await pass(); // applies revision 2: ECS's circuit breaker trips and keeps revision 1 serving
    await pass(); // sees the rollback: the deployment ends rolled_back, the app goes back to revision 1
    await pass(); // applies revision 1 again
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', targetRevision: 1, currentRevision: 1, readyReplicas: 2 });
    const [failed] = (await deps.store.listDeployments('acme', app.uid, { limit: 5 })).items.filter(
      (d) => d.status === 'rolled_back',
    );
    expect(failed?.reason).toMatch(
      /circuit breaker stopped the rollout: its tasks failed \(the app's events say why\); rolled back to revision 1/,
    );
    const events = (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items.map((e) => e.type);
    expect(events).toContain('rolledBack');
    expect(events).not.toContain('deploymentFailed');
  });

  it('takes a read from before an update, the rollout applied not in it yet, for no rollback of ECS', async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate' });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    await pass(); // applies revision 2
    aws.readsBehind(1); // the next pass reads the service's deployments as they were before the update
    await pass();
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', targetRevision: 2, currentRevision: 2 });
    const deployments = (await deps.store.listDeployments('acme', app.uid, { limit: 5 })).items;
    expect(deployments.map((d) => [d.revision, d.status])).toEqual([
      [2, 'succeeded'],
      [1, 'succeeded'],
    ]);
  });

  it("rolls a crash-looping revision back to the one it replaced after the family's unused revisions were retired", async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate' });
    await pass();
    for (const tag of ['2', '3', 'crashloop']) {
      await deploy(deps, 'acme', 'web', { image: `registry.example.com/acme/web:${tag}` });
      for (let i = 0; i < 4; i++) await pass();
    }
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', currentRevision: 3 });
    const [service] = [...aws.services.values()];
    expect(aws.definitions.get(service?.taskDefinition ?? '')?.containerDefinitions?.[0]?.image).toBe(
      'registry.example.com/acme/web:3',
    );
  });

  it('fails a deployment whose tasks ECS cannot place at its deadline, in ECS’s words, telling the operator meanwhile', async () => {
    const { deps, pass, logged } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:unplaceable' });
    await pass(); // applies revision 2: ECS places none of its tasks, and says why; revision 1 serves on
    // Counted for the operator's alarm at each pass while it lasts.
    expect((await pass()).notStarting).toBe(1);
    const quota =
      /^ECS was unable to place a task\. Reason: You've reached the limit on the number of vCPUs you can run concurrently\./;
    expect(logged).toContainEqual(
      expect.objectContaining({
        message: 'the runtime cannot start an app',
        tenantId: 'acme',
        app: 'web',
        why: expect.stringMatching(quota),
      }),
    );
    deps.clock.advance(600_000);
    await pass(); // past the deadline: failed, in ECS's words, and back to revision 1
    await pass();
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', targetRevision: 1, currentRevision: 1, readyReplicas: 2 });
    const [failed] = (await deps.store.listDeployments('acme', app.uid, { limit: 5 })).items.filter(
      (d) => d.revision === 2,
    );
    expect(failed?.reason).toMatch(
      /^not healthy within 600 s: ECS was unable to place a task\. Reason: You've reached the limit on the number of vCPUs/,
    );
    // Revision 1's tasks start again: nothing more to tell.
    const told = logged.length;
    expect((await pass()).notStarting).toBe(0);
    expect(logged).toHaveLength(told);
  });

  it('fails at once a deployment whose task definition ECS refuses, naming why, and rolls back to the last good revision', async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', TOO_LARGE_FOR_ECS);
    await pass(); // ECS refuses revision 2's task definition: the deployment fails, a rollback to revision 1 starts
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', targetRevision: 1, currentRevision: 1, readyReplicas: 2 });
    const [failed] = (await deps.store.listDeployments('acme', app.uid, { limit: 5 })).items.filter(
      (d) => d.revision === 2,
    );
    expect(failed).toMatchObject({ status: 'rolled_back' });
    expect(failed?.reason).toMatch(
      /^ECS refused the task definition: Task definition size exceeds the limit of 65536 bytes\./,
    );
    // The refusal is no failure of the pass, to be tried again: the next passes register nothing more.
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('rolls back to the tasks that serve when ECS refuses the next revision before the first went live', async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass(); // revision 1's service is made; its tasks start
    // Revision 2 comes before any pass saw revision 1 go live.
    await deploy(deps, 'acme', 'web', TOO_LARGE_FOR_ECS);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ currentRevision: null });
    await pass(); // ECS refuses revision 2's task definition: a rollback to revision 1, whose tasks serve, starts
    await pass();
    await expectBackOnSupersededFirst(deps, 2);
  });

  it('leaves an app whose first task definition ECS refuses failed at once, naming why, running nothing', async () => {
    const { deps, aws, pass, logged } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2, ...TOO_LARGE_FOR_ECS });
    await pass(); // a refusal is no failure of the pass
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'failed', currentRevision: null, readyReplicas: 0 });
    const [deployment] = (await deps.store.listDeployments('acme', app.uid, { limit: 1 })).items;
    expect(deployment).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^ECS refused the task definition/),
    });
    // Nothing of it is tried again, and the operator is told once.
    aws.ecs.resetHistory();
    await pass();
    expect(aws.ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(aws.ecs).not.toHaveReceivedCommand(CreateServiceCommand);
    // Told why: the operator learns whether the refusal is Berth's.
    expect(logged).toEqual([
      expect.objectContaining({
        message: 'the runtime refused an app',
        tenantId: 'acme',
        app: 'web',
        refused: deployment?.reason,
      }),
    ]);
  });

  it("sweeps away a service whose app is gone, its route only when no app has the name, never a live app's", async () => {
    const { deps, aws, pass, reconciler } = setup;
    for (const name of ['web', 'api', 'docs'])
      await createApp(deps, 'acme', { ...web, name, runtime: 'fargate' });
    await pass();
    // As when a pass that lost its lease applies an app whose deletion another pass finished meanwhile.
    const lost = async (name: string) => {
      const app = await getAppRecord(deps, 'acme', name);
      await deps.store.finalizeAppDeletion(app);
      return { tenantId: 'acme', app: name, incarnation: app.uid.slice(-8) };
    };
    const orphans = [await lost('web'), await lost('api')];
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'fargate' });
    await pass();
    const active = () =>
      [...aws.services.values()].filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName);
    expect(active()).toHaveLength(4);

    const swept = await reconciler.sweep();
    // In whatever order ECS lists their services, which it does not promise.
    expect(swept).toEqual({ tenantHomes: 0, orphans: expect.arrayContaining(orphans) });
    expect(swept.orphans).toHaveLength(orphans.length);
    const live = [await getAppRecord(deps, 'acme', 'api'), await getAppRecord(deps, 'acme', 'docs')];
    expect(active().sort()).toEqual(live.map((a) => `berth_acme_${a.name}_${a.uid.slice(-8)}`).sort());
    // web's rule is gone (its target group once ECS lets go of it); api's stays, the new api's route.
    expect(aws.rules.map((r) => r.Conditions?.[0]?.HostHeaderConfig?.Values?.[0]).sort()).toEqual([
      'api--acme.apps.example.com',
      'docs--acme.apps.example.com',
    ]);
    // The orphans' task definitions are gone; the live apps' stay.
    const families = [...aws.definitions.keys()].map((arn) => arn.split('/').pop()?.split(':')[0]);
    for (const { app, incarnation } of orphans)
      expect(families).not.toContain(`berth-acme-${app}-${incarnation}`);
    expect(families).toHaveLength(2);
    // web's target group goes at a later sweep, once ECS, which still lists the draining service, has let go of it.
    expect(aws.targetGroups.size).toBe(3);
    deps.clock.advance(SWEEP_EVERY_MS + 1);
    expect(await reconciler.sweep()).toEqual({ tenantHomes: 0, orphans: [] });
    expect(aws.targetGroups.size).toBe(2);
    await pass();
    expect(await getAppRecord(deps, 'acme', 'api')).toMatchObject({ status: 'running' });
  });

  it('removes nothing when most of what it holds has no app: that says the table is the wrong one', async () => {
    const { deps, aws, pass, reconciler } = setup;
    for (const name of ['a', 'b', 'c', 'd'])
      await createApp(deps, 'acme', { ...web, name, runtime: 'fargate' });
    await pass();
    for (const name of ['a', 'b', 'c'])
      await deps.store.finalizeAppDeletion(await getAppRecord(deps, 'acme', name));
    aws.ecs.resetHistory();
    expect(await reconciler.sweep()).toEqual({
      tenantHomes: 0,
      orphans: [],
      refused: expect.stringContaining('3 of 4 workloads on fargate have nothing in the table'),
    });
    expect(aws.ecs).not.toHaveReceivedCommand(DeleteServiceCommand);
    expect(aws.rules).toHaveLength(4);
  });

  it('deletes the service, then its route once ECS lets go, then the app', async () => {
    const { deps, aws, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'fargate', replicas: 2 });
    await pass();
    await deleteApp(deps, 'acme', 'web');
    await pass(); // deletes the service; its target group is still in use
    expect(aws.targetGroups.size).toBe(1);
    await pass(); // drained: rule and target group go
    expect(aws.rules).toEqual([]);
    expect(aws.targetGroups.size).toBe(0);
    await pass(); // nothing left: the app record goes
    await expect(getAppRecord(deps, 'acme', 'web')).rejects.toThrow(/not found|does not exist/);
    expect([...aws.tasks.values()].every((t) => t.lastStatus === 'STOPPED')).toBe(true);
    expect(aws.definitions.size).toBe(0);
  });
});
