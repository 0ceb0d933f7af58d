import { randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, inject, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { createApp, deleteApp } from '../../functions/core/apps.ts';
import { updatePlan } from '../../functions/core/plans.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { INSTALL_RESOURCE_ID, installEvent, NOT_INSTALLED_ID } from '../../functions/jobs/install.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { SEED_PLANS } from '../../schemas/plan.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';

const RESPONSE_URL =
  'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?sig=1';

/** A CloudFormation custom resource event for the install, shaped like AWS's documentation. */
function cloudFormationEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  responseUrl = RESPONSE_URL,
  properties: Record<string, unknown> = {},
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:BerthPlatform-InstallFunction',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/BerthPlatform/1',
    RequestId: randomUUID(),
    LogicalResourceId: 'Install',
    ResourceType: 'Custom::BerthInstall',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x', ...properties },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: INSTALL_RESOURCE_ID,
      OldResourceProperties: common.ResourceProperties,
    };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: INSTALL_RESOURCE_ID };
}

/** The install's deps on a fresh table of the run's DynamoDB Local (none when `table` is not made). */
async function installDeps(made = true) {
  const client = localDynamoDbClient(inject('dynamodb'));
  const table = `t-${randomUUID()}`;
  if (made) await ensureTable(client, table);
  return { ...(await fakeCoreDeps()), store: new DynamoStore(client, table) };
}

const noLog = { error: () => undefined };

describe("the install's custom resource on DynamoDB Local", () => {
  it('writes the plans an installation starts with when the stack is created, and tells CloudFormation', async () => {
    const deps = await installDeps();
    const event = cloudFormationEvent('Create');
    const answer = await installEvent(deps, event, noLog);
    expect(answer.url.href).toBe(RESPONSE_URL);
    expect(answer.body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: INSTALL_RESOURCE_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: 'Install',
    });
    const plans = (await deps.store.listPlans({ limit: 10 })).items;
    expect(plans.map(({ id, name, limits }) => ({ id, name, limits }))).toEqual(SEED_PLANS);
  });

  it("leaves the platform team's plans alone: a second create keeps their changes, updates and deletes write nothing", async () => {
    const deps = await installDeps();
    await installEvent(deps, cloudFormationEvent('Create'), noLog);
    const changed = await updatePlan(deps, 'free', { limits: { apps: 1 } });
    // The platform stack made again over the same table: its plans stay as they are.
    expect((await installEvent(deps, cloudFormationEvent('Create'), noLog)).body.Status).toBe('SUCCESS');
    expect(await deps.store.getPlan('free')).toEqual(changed);

    const untouched = await installDeps();
    for (const type of ['Update', 'Delete'] as const) {
      const answer = await installEvent(untouched, cloudFormationEvent(type), noLog);
      expect(answer.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: INSTALL_RESOURCE_ID });
    }
    expect((await untouched.store.listPlans({ limit: 10 })).items).toEqual([]);
  });

  it('refuses a deployment that stops offering a runtime apps run on, naming them, and lets one that keeps it', async () => {
    const deps = { ...(await installDeps()), runtimes: ['fargate', 'eks'] as const };
    const runtimes = (...offered: string[]) => ({ Runtimes: offered });
    await installEvent(deps, cloudFormationEvent('Create', RESPONSE_URL, runtimes('fargate', 'eks')), noLog);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const app = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    for (const name of ['web', 'api', 'worker'])
      await createApp(deps, 'acme', { ...app, name, runtime: 'eks' });
    await createApp(deps, 'acme', { ...app, name: 'site', runtime: 'fargate' });
    const logged: unknown[] = [];
    const log = {
      error: (message: string, details: Record<string, unknown>) => logged.push({ message, ...details }),
    };
    const refused = await installEvent(
      deps,
      cloudFormationEvent('Update', RESPONSE_URL, runtimes('fargate')),
      log,
    );
    expect(refused.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: INSTALL_RESOURCE_ID });
    expect(refused.body.Reason).toBe(
      "Berth's install failed: runtimes leaves out eks, where 3 apps run (acme/api (eks), acme/web (eks), " +
        'acme/worker (eks)): delete them and wait until they are gone, or keep eks in runtimes',
    );
    expect(logged).toEqual([expect.objectContaining({ message: 'install failed', requestType: 'Update' })]);
    // A platform stack made anew over the same table is held to its apps too.
    const remade = await installEvent(
      deps,
      cloudFormationEvent('Create', RESPONSE_URL, runtimes('eks')),
      noLog,
    );
    expect(remade.body.Reason).toMatch(/leaves out fargate, where an app runs \(acme\/site \(fargate\)\)/);
    const kept = cloudFormationEvent('Update', RESPONSE_URL, runtimes('eks', 'fargate'));
    expect((await installEvent(deps, kept, noLog)).body.Status).toBe('SUCCESS');
    // Deleted, the apps hold the runtime until their workloads are gone; then it may go too.
    const update = () =>
      installEvent(deps, cloudFormationEvent('Update', RESPONSE_URL, runtimes('fargate')), noLog);
    for (const name of ['web', 'api', 'worker']) await deleteApp(deps, 'acme', name);
    expect((await update()).body.Status).toBe('FAILED');
    for (const app of (await deps.store.listApps('acme', { limit: 10 })).items) {
      if (app.status === 'deleting') await deps.store.finalizeAppDeletion(app);
    }
    expect((await update()).body.Status).toBe('SUCCESS');
  });

  it('refuses the stack’s deletion while apps remain, naming them, until their workloads are gone', async () => {
    const deps = { ...(await installDeps()), runtimes: ['fargate', 'eks'] as const };
    await installEvent(deps, cloudFormationEvent('Create'), noLog);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const app = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { ...app, name: 'web' });
    await createApp(deps, 'acme', { ...app, name: 'api', runtime: 'eks' });
    const deletion = () => installEvent(deps, cloudFormationEvent('Delete'), noLog);
    expect((await deletion()).body).toMatchObject({
      Status: 'FAILED',
      Reason:
        "Berth's install failed: the stack cannot be deleted while 2 apps run (acme/api (eks), acme/web (fargate)): " +
        'their workloads would be left running, unmetered, with nothing to delete them. Delete them and wait until ' +
        'they are gone, then delete the stack again',
      PhysicalResourceId: INSTALL_RESOURCE_ID,
    });
    await deleteApp(deps, 'acme', 'web');
    await deleteApp(deps, 'acme', 'api');
    // Deleted, the apps' workloads are still there until a pass removes them.
    expect((await deletion()).body.Reason).toMatch(/while 2 apps run/);
    const [web] = (await deps.store.listApps('acme', { limit: 10 })).items.filter((a) => a.name === 'web');
    if (web) await deps.store.finalizeAppDeletion(web);
    expect((await deletion()).body.Reason).toMatch(/while an app runs \(acme\/api \(eks\)\)/);
    for (const left of (await deps.store.listApps('acme', { limit: 10 })).items)
      await deps.store.finalizeAppDeletion(left);
    expect((await deletion()).body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: INSTALL_RESOURCE_ID,
    });
  });

  it('lets a creation it refused roll back, whatever apps the table holds', async () => {
    const deps = { ...(await installDeps()), runtimes: ['fargate'] as const };
    await installEvent(deps, cloudFormationEvent('Create', RESPONSE_URL, { Runtimes: ['fargate'] }), noLog);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const app = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { ...app, name: 'web' });
    // A platform stack made anew over a table whose apps run on a runtime it leaves out: refused, under an id of its
    // own, which CloudFormation's rollback then deletes.
    const refused = await installEvent(
      deps,
      cloudFormationEvent('Create', RESPONSE_URL, { Runtimes: ['eks'] }),
      noLog,
    );
    expect(refused.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: NOT_INSTALLED_ID });
    const rollback = cloudFormationEvent('Delete');
    if (rollback.RequestType === 'Delete') rollback.PhysicalResourceId = refused.body.PhysicalResourceId;
    expect((await installEvent(deps, rollback, noLog)).body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: NOT_INSTALLED_ID,
    });
  });

  it('refuses a deployment that gives EKS apps another cluster, and lets one that keeps it', async () => {
    const deps = { ...(await installDeps()), runtimes: ['fargate', 'eks'] as const };
    const on = (cluster: string) => ({ Runtimes: ['fargate', 'eks'], EksCluster: cluster });
    const update = (from: string, to: string) => {
      const event = cloudFormationEvent('Update', RESPONSE_URL, on(to));
      if (event.RequestType === 'Update')
        event.OldResourceProperties = { ...event.OldResourceProperties, ...on(from) };
      return installEvent(deps, event, noLog);
    };
    await installEvent(deps, cloudFormationEvent('Create', RESPONSE_URL, on('apps-1')), noLog);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const app = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { ...app, name: 'site', runtime: 'fargate' });
    // No app on EKS yet: the cluster may change.
    expect((await update('apps-1', 'apps-2')).body.Status).toBe('SUCCESS');
    await createApp(deps, 'acme', { ...app, name: 'web', runtime: 'eks' });
    expect((await update('apps-2', 'apps-3')).body.Reason).toBe(
      "Berth's install failed: the EKS cluster changes from apps-2 to apps-3, while on apps-2 an app runs " +
        '(acme/web (eks)): their pods would be left running there, unmetered. Delete them and wait until they are ' +
        'gone, or keep the cluster',
    );
    expect((await update('apps-2', 'apps-2')).body.Status).toBe('SUCCESS');
  });

  it('refuses a domain under which apps already there would have names a load balancer cannot route', async () => {
    const deps = { ...(await installDeps()), runtimes: ['fargate'] as const };
    const under = (domain: string) =>
      installEvent(
        deps,
        cloudFormationEvent('Update', RESPONSE_URL, { Runtimes: ['fargate'], Domain: domain }),
        noLog,
      );
    await installEvent(deps, cloudFormationEvent('Create'), noLog);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    // Its name under apps.example.com: 50 + 6 + 1 + 16 = 73 characters.
    const app = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { ...app, name: 'a'.repeat(50) });
    await createApp(deps, 'acme', { ...app, name: 'web' });
    // Under a domain of 72 characters, 129; of 71, 128.
    const longer = `${'d'.repeat(60)}.example.com`;
    expect((await under(longer)).body.Reason).toBe(
      `Berth's install failed: under domain ${longer}, an app would have a name longer than a load balancer routes ` +
        `(128 characters): acme/${'a'.repeat(50)} (fargate). Choose a shorter domain, or delete those apps`,
    );
    expect((await under(longer.slice(1))).body.Status).toBe('SUCCESS');
  });

  it('answers a failure to CloudFormation, with its reason, instead of leaving the stack waiting', async () => {
    const logged: unknown[] = [];
    const answer = await installEvent(await installDeps(false), cloudFormationEvent('Create'), {
      error: (message, details) => logged.push({ message, ...details }),
    });
    expect(answer.body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^Berth's install failed: /),
      PhysicalResourceId: NOT_INSTALLED_ID,
    });
    expect(logged).toEqual([expect.objectContaining({ message: 'install failed', requestType: 'Create' })]);
  });

  it('calls no URL but an HTTPS one on amazonaws.com', async () => {
    const deps = await installDeps();
    for (const url of [
      'http://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://amazonaws.com.evil.example/x',
    ]) {
      await expect(installEvent(deps, cloudFormationEvent('Create', url), noLog)).rejects.toThrow(
        /not a CloudFormation response URL/,
      );
    }
    expect((await deps.store.listPlans({ limit: 10 })).items).toEqual([]);
  });
});
