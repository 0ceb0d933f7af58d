import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { berthApp } from '../../infra/berth-app.ts';
import { bundleDefine } from '../../infra/handler-bundling.ts';
import { INSTALL_CONTEXT } from '../support/lambda-fixtures.ts';
import { actionsAllowedTo, actionsBundledIn, covers } from '../support/sdk-actions.ts';

/**
 * Bundled by every client of theirs, sent by none as Berth configures them: DynamoDB's endpoint discovery is off,
 * and S3's sessions are for directory buckets only.
 */
const NEVER_SENT = ['dynamodb:DescribeEndpoints', 's3:CreateSession'];

/** What a tenant's `docker login` is made with: the push role's session, not the API's own role. */
const REGISTRY_LOGIN = ['ecr:GetAuthorizationToken', 'sts:AssumeRole'];

/** The install Lambda bundles the whole store, and only puts plans (its bundle is run against DynamoDB Local). */
const STORE_BESIDES_PUT = [
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
];

/** Each Lambda of an install by its handler's entry, with the actions its bundle holds that its role is not allowed. */
async function ungrantedActions(install: Record<string, unknown>) {
  const built = berthApp({ context: { berth: install, 'aws:cdk:bundling-stacks': [] } });
  const { platform } = built;
  const template = Template.fromStack(platform);
  const { functions } = platform.jobs;
  const lambdas: Record<string, IFunction> = {
    api: platform.apiFunction,
    install: platform.installFunction,
    dispatch: functions.dispatch,
    reconcile: functions.reconcile,
    scale: functions.scale,
    meter: functions.meter,
    report: functions.report,
    'ecs-events': functions.ecsEvents,
  };
  const define = bundleDefine('eks' in install);
  const entries = await Promise.all(
    Object.entries(lambdas).map(async ([entry, fn]) => {
      const role = platform.getLogicalId(fn.role?.node.defaultChild as CfnElement);
      const allowed = actionsAllowedTo(template, role);
      // Berth sends SQS nothing but the reconcile queue's nudges and batches: only that queue counts.
      const onQueue = actionsAllowedTo(template, role, platform.resolve(platform.jobs.queue.queueArn));
      const bundled = await actionsBundledIn(`functions/handlers/${entry}.ts`, define);
      const ungranted = bundled.filter(
        (action) =>
          !NEVER_SENT.includes(action) &&
          !(action.startsWith('sqs:') ? onQueue : allowed).some((a) => covers(a, action)),
      );
      return [entry, ungranted] as const;
    }),
  );
  return { ungranted: Object.fromEntries(entries), template, platform };
}

describe('IAM grants for what the Lambdas send', () => {
  it('allows every Lambda each AWS action its bundle can send, and names why the rest is never sent', async () => {
    const { ungranted, template, platform } = await ungrantedActions({
      ...INSTALL_CONTEXT,
      runtimes: ['fargate', 'eks'],
      hostedZone: { id: 'Z0123456789ABC', name: 'example.com' },
      eks: {},
    });
    expect(ungranted).toEqual({
      api: REGISTRY_LOGIN,
      install: STORE_BESIDES_PUT,
      dispatch: [],
      reconcile: [],
      scale: [],
      meter: [],
      report: [],
      'ecs-events': [],
    });
    // The login's two: the push role trusts the API's role, and may get the token itself.
    const push = platform.getLogicalId(
      platform.node.findChild('RegistryPushRole').node.defaultChild as CfnElement,
    );
    const api = platform.getLogicalId(platform.apiFunction.role?.node.defaultChild as CfnElement);
    expect(JSON.stringify(template.toJSON().Resources[push].Properties.AssumeRolePolicyDocument)).toContain(
      JSON.stringify({ 'Fn::GetAtt': [api, 'Arn'] }),
    );
    expect(actionsAllowedTo(template, push)).toContain('ecr:GetAuthorizationToken');
  });

  it('leaves out only what an install without EKS or a zone of its own never does', async () => {
    const { ungranted } = await ungrantedActions(INSTALL_CONTEXT);
    expect(ungranted).toEqual({
      api: REGISTRY_LOGIN,
      install: STORE_BESIDES_PUT,
      dispatch: [],
      // Apps' alias records (Route 53), and the canonical zones of EKS's load balancers, need a zone and EKS.
      reconcile: ['elasticloadbalancing:DescribeLoadBalancers', 'route53:ChangeResourceRecordSets'],
      scale: [],
      meter: [],
      report: [],
      'ecs-events': [],
    });
  });
});
