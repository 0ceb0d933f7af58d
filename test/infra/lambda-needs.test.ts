import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ECR_PUSH_ACTIONS } from '../../functions/adapters/ecr/ecr-names.ts';
import { readAwsRuntimeConfig, readAwsTableConfig } from '../../functions/shared/aws-config.ts';
import { berthApp } from '../../infra/berth-app.ts';
import { bundleDefine } from '../../infra/handler-bundling.ts';
import {
  EKS_INSTALL_CONTEXT,
  INSTALL_CONTEXT,
  INSTALL_REPOSITORIES_ARN,
  LAMBDA_ENV,
} from '../support/lambda-fixtures.ts';
import { actionsAllowedTo, actionsBundledIn, covers } from '../support/sdk-actions.ts';

/** Bundled by every S3 client, sent by none as Berth configures it: S3's sessions are for directory buckets only. */
const NEVER_SENT = ['s3:CreateSession'];

/** What a tenant's `docker login` is made with: the push role's session, not the API's own role. */
const REGISTRY_LOGIN = ['ecr:GetAuthorizationToken', 'sts:AssumeRole'];

/**
 * The install Lambda bundles the whole store, and only puts plans and lists tenants and apps (its bundle is run
 * against DynamoDB Local).
 */
const STORE_BESIDES_PUT_AND_QUERY = [
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:UpdateItem',
];

const EKS_INSTALL = { ...EKS_INSTALL_CONTEXT, eks: {} };

/** An install's platform stack, its template, and its Lambdas by their handler's entry (templates only, unbundled). */
function synthInstall(install: Record<string, unknown>) {
  const { platform } = berthApp({ context: { berth: install, 'aws:cdk:bundling-stacks': [] } });
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
  return { platform, template: Template.fromStack(platform), lambdas };
}

/** Each Lambda of an install by its handler's entry, with the actions its bundle holds that its role is not allowed. */
async function ungrantedActions(install: Record<string, unknown>) {
  const { platform, template, lambdas } = synthInstall(install);
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
    const { ungranted, template, platform } = await ungrantedActions(EKS_INSTALL);
    expect(ungranted).toEqual({
      api: REGISTRY_LOGIN,
      install: STORE_BESIDES_PUT_AND_QUERY,
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
    // What the login is for: push and pull, on the install's repositories and no others.
    expect(actionsAllowedTo(template, push, INSTALL_REPOSITORIES_ARN).sort()).toEqual(
      ['ecr:GetAuthorizationToken', ...ECR_PUSH_ACTIONS].sort(),
    );
    expect(actionsAllowedTo(template, push).sort()).toEqual(
      ['ecr:GetAuthorizationToken', ...ECR_PUSH_ACTIONS].sort(),
    );
    // Route 53 checks the VPC whose private zones the API lists with the API's own rights.
    expect(actionsAllowedTo(template, api)).toEqual(
      expect.arrayContaining(['route53:ListHostedZonesByVPC', 'ec2:DescribeVpcs']),
    );
  });

  it('leaves out only what an install without EKS or a zone of its own never does', async () => {
    const { ungranted } = await ungrantedActions(INSTALL_CONTEXT);
    expect(ungranted).toEqual({
      api: REGISTRY_LOGIN,
      install: STORE_BESIDES_PUT_AND_QUERY,
      dispatch: [],
      // Apps' alias records (Route 53), and the names of the load balancers they point at (ALB), need a zone.
      reconcile: ['elasticloadbalancing:DescribeLoadBalancers', 'route53:ChangeResourceRecordSets'],
      scale: [],
      meter: [],
      report: [],
      'ecs-events': [],
    });
  });
});

/**
 * A value of the right shape for what an EKS install's template fills in at deploy time: the cluster it makes, the
 * load balancer logs bucket.
 */
const EKS_LAMBDA_ENV: Record<string, string> = {
  BERTH_EKS_CLUSTER: 'berth',
  BERTH_EKS_ACCESS_LOGS_BUCKET: 'berthplatform-loadbalancerlogs-0123456789ab',
};

describe('the environment each Lambda is given', () => {
  /**
   * What the Lambda runtime sets itself, and a value of the right shape for each variable the template fills in at
   * deploy time (a queue's URL, a role's ARN).
   */
  const deployed = (variables: Record<string, unknown>) =>
    Object.fromEntries([
      ['AWS_REGION', LAMBDA_ENV.AWS_REGION],
      ...Object.entries(variables).map(([name, value]) => {
        if (typeof value === 'string') return [name, value];
        const shaped = (LAMBDA_ENV as Record<string, string>)[name] ?? EKS_LAMBDA_ENV[name];
        if (shaped === undefined)
          throw new Error(`${name} is set at deploy time: give it a value in LAMBDA_ENV or EKS_LAMBDA_ENV`);
        return [name, shaped];
      }),
    ]);

  it.each([
    ['without EKS', INSTALL_CONTEXT],
    ['with EKS and a zone', EKS_INSTALL],
  ])('passes the configuration every handler reads at its cold start (%s)', (_, install) => {
    const { platform, template, lambdas } = synthInstall(install);
    const resources = template.toJSON().Resources as Record<
      string,
      { Properties: { Environment: { Variables: Record<string, unknown> } } }
    >;
    for (const [entry, fn] of Object.entries(lambdas)) {
      const id = platform.getLogicalId(fn.node.defaultChild as CfnElement);
      const env = deployed(resources[id]?.Properties.Environment.Variables ?? {});
      const read = entry === 'install' ? readAwsTableConfig : readAwsRuntimeConfig;
      expect(() => read(env), entry).not.toThrow();
    }
  });
});
