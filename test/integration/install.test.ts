import { randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, inject, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { updatePlan } from '../../functions/core/plans.ts';
import { INSTALL_RESOURCE_ID, installEvent } from '../../functions/jobs/install.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { SEED_PLANS } from '../../schemas/plan.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';

const RESPONSE_URL =
  'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?sig=1';

/** A CloudFormation custom resource event for the install, shaped like AWS's documentation. */
function cloudFormationEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  responseUrl = RESPONSE_URL,
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:BerthPlatform-InstallFunction',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/BerthPlatform/1',
    RequestId: randomUUID(),
    LogicalResourceId: 'Install',
    ResourceType: 'Custom::BerthInstall',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x' },
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

  it('answers a failure to CloudFormation, with its reason, instead of leaving the stack waiting', async () => {
    const logged: unknown[] = [];
    const answer = await installEvent(await installDeps(false), cloudFormationEvent('Create'), {
      error: (message, details) => logged.push({ message, ...details }),
    });
    expect(answer.body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^Berth's install failed: /),
      PhysicalResourceId: INSTALL_RESOURCE_ID,
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
