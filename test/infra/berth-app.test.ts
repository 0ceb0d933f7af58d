import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SslPolicy } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { describe, expect, inject, it, vi } from 'vitest';
import { TABLE_CALLS } from '../../functions/adapters/dynamodb/dynamodb-http.ts';
import { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { ECR_PULL_ACTIONS } from '../../functions/adapters/ecr/ecr-names.ts';
import { generateApiKey, hashApiKey } from '../../functions/core/api-keys.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { berthApp } from '../../infra/berth-app.ts';
import { FEATURE_FLAGS } from '../../infra/feature-flags.ts';
import { DEFAULT_PRICE_TABLE } from '../../schemas/billing.ts';
import { FARGATE_CPUS } from '../../schemas/fargate-sizes.ts';
import { deletedNoLaterThan, keptOnDeletion } from '../support/deleted-first.ts';
import { codeIn, lambdaBundles, lambdaName } from '../support/lambda-bundles.ts';
import {
  httpApiEvent,
  INSTALL_CONTEXT,
  INSTALL_REPOSITORIES_ARN,
  LAMBDA_CONTEXT,
  LAMBDA_ENV,
} from '../support/lambda-fixtures.ts';
import { answeringLate, forwardedTo } from '../support/late-answers.ts';
import { localApi } from '../support/local-api.ts';
import { longestValue } from '../support/longest-values.ts';
import { figuresIn, printedBy } from '../support/printed-by.ts';
import { actionsAllowedTo } from '../support/sdk-actions.ts';

const context = { berth: INSTALL_CONTEXT };

/**
 * The variables an HTTP API's access log may name, as AWS's API Gateway guide lists them ("Customize HTTP API access
 * logs"), but for those only an authorizer, IAM authorization or a client certificate sets, none of which the API uses.
 */
const HTTP_API_LOG_VARIABLES = new Set([
  'accountId',
  'apiId',
  'awsEndpointRequestId',
  'awsEndpointRequestId2',
  'customDomain.basePathMatched',
  'dataProcessed',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'extendedRequestId',
  'httpMethod',
  'identity.sourceIp',
  'identity.userAgent',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'responseLatency',
  'responseLength',
  'routeKey',
  'stage',
  'status',
]);

/** Synthesizes an install; `bundled: false` skips bundling the Lambdas, for tests that read only the templates. */
function synth(overrides: Record<string, unknown> = {}, { bundled = true } = {}) {
  const skipBundling = bundled ? {} : { 'aws:cdk:bundling-stacks': [] };
  const built = berthApp({ context: { berth: { ...context.berth, ...overrides }, ...skipBundling } });
  const assembly = built.app.synth();
  return {
    ...built,
    assembly,
    data: Template.fromStack(built.data),
    stacks: { data: built.data, platform: built.platform },
    platform: Template.fromStack(built.platform),
  };
}

describe('the CDK app', () => {
  const app = synth();
  /** The bundle of the platform's Lambda whose logical id begins `id` (`ApiFunction`, `InstallFunction`). */
  const bundleOf = (id: string) => {
    const bundle = lambdaBundles(app.assembly, 'BerthPlatform').find((b) => b.id.startsWith(id));
    if (!bundle) throw new Error(`no ${id} bundle`);
    return bundle;
  };

  it('synthesizes offline with zero unacknowledged cdk-nag findings — and a new finding fails it', () => {
    expect(app.assembly.stacks.map((s) => s.stackName).sort()).toEqual(['BerthData', 'BerthPlatform']);
    const broken = berthApp({ context });
    new Bucket(broken.platform, 'Unchecked');
    expect(() => broken.app.synth()).toThrow();
  });

  it('is built with every feature flag aws-cdk-lib recommends, at its recommended value', () => {
    // An aws-cdk-lib that recommends another flag fails this until the flag is set (or let be, saying why).
    expect(FEATURE_FLAGS).toEqual(CURRENTLY_RECOMMENDED_FLAGS);
    expect(app.app.node.tryGetContext('@aws-cdk/aws-ec2:restrictDefaultSecurityGroup')).toBe(true);
    // The VPC's default security group, which nothing of Berth's uses, is left with no rules.
    const vpc = Object.keys(app.platform.findResources('AWS::EC2::VPC'))[0];
    app.platform.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: { 'Fn::GetAtt': [vpc, 'DefaultSecurityGroup'] },
    });
  });

  it('keeps state in a protected table with the store’s keys', () => {
    app.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'Berth-state',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1' })],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [
        Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
    app.data.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    app.data.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
      }),
    });
  });

  it('runs the API on Node 24, arm64, with log retention and only the admin key’s hash', () => {
    app.platform.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          BERTH_TABLE_NAME: 'Berth-state',
          BERTH_ADMIN_KEY_HASH: 'a'.repeat(64),
          BERTH_APP_DOMAIN: 'apps.example.com',
        }),
      },
    });
    app.platform.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    app.platform.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: { ThrottlingBurstLimit: 1000, ThrottlingRateLimit: 500 },
    });
  });

  it('logs each API request as JSON of variables an HTTP API has: its path, its status, why API Gateway failed it', () => {
    const [stage] = Object.values(app.platform.findResources('AWS::ApiGatewayV2::Stage'));
    const fields = JSON.parse(stage?.Properties.AccessLogSettings.Format) as Record<string, string>;
    const variables = Object.values(fields).map((value) => value.replace(/^\$context\./, ''));
    expect(variables.filter((variable) => !HTTP_API_LOG_VARIABLES.has(variable))).toEqual([]);
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      method: '$context.httpMethod',
      path: '$context.path',
      status: '$context.status',
      integrationError: '$context.integrationErrorMessage',
      error: '$context.error.message',
    });
  });

  it('puts tenants’ apps behind one HTTPS load balancer and an ECS cluster with Container Insights', () => {
    app.platform.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
    app.platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    app.platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: context.berth.certificateArn }],
      // TLS 1.2 and 1.3 with a post-quantum key exchange, as the EKS apps' load balancer (its Ingress) has it.
      SslPolicy: SslPolicy.TLS13_12_PQ,
      DefaultActions: [Match.objectLike({ Type: 'fixed-response' })],
    });
    app.platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      DefaultActions: [
        Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS' }) }),
      ],
    });
    // It takes HTTPS from anywhere, and HTTP to redirect it; nothing else.
    const [balancer] = Object.values(app.platform.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    const [groupRef] = (balancer?.Properties.SecurityGroups ?? []) as { 'Fn::GetAtt': [string, string] }[];
    const groupId = groupRef?.['Fn::GetAtt'][0] ?? '';
    const group = app.platform.findResources('AWS::EC2::SecurityGroup')[groupId];
    const rules = group?.Properties.SecurityGroupIngress as Record<string, unknown>[];
    expect(rules.map((r) => [r.CidrIp, r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
      ['0.0.0.0/0', 'tcp', 443, 443],
      ['0.0.0.0/0', 'tcp', 80, 80],
    ]);
    const ingressTo = (id: string) =>
      Object.values(app.platform.findResources('AWS::EC2::SecurityGroupIngress'))
        .map((r) => r.Properties)
        .filter((rule) => JSON.stringify(rule.GroupId) === JSON.stringify({ 'Fn::GetAtt': [id, 'GroupId'] }));
    expect(ingressTo(groupId)).toEqual([]);
    // The tenants' tasks take what comes through it, on any port an app listens on, and nothing else.
    const [tasksGroupId, tasksGroup] = Object.entries(
      app.platform.findResources('AWS::EC2::SecurityGroup'),
    ).find(([, g]) => g.Properties.GroupDescription.startsWith('Tenant tasks')) ?? ['', undefined];
    expect(tasksGroup?.Properties.SecurityGroupIngress).toBeUndefined();
    expect(ingressTo(tasksGroupId)).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 0,
        ToPort: 65535,
        SourceSecurityGroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] },
      }),
    ]);
  });

  it('lets the apps’ subnets reach S3, where ECR keeps image layers, without the NAT gateway', () => {
    const privateRouteTables = Object.entries(app.platform.findResources('AWS::EC2::RouteTable'))
      .filter(([, table]) => JSON.stringify(table.Properties.Tags).includes('/Vpc/appsSubnet'))
      .map(([id]) => ({ Ref: id }));
    expect(privateRouteTables).toHaveLength(2);
    app.platform.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }),
      RouteTableIds: Match.arrayWith(privateRouteTables),
    });
  });

  it('scopes registry access to berth/ repositories', () => {
    const ecrStatements = Object.values(app.platform.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .map((statement) => ({ actions: [statement.Action].flat(), resource: statement.Resource }))
        .filter(({ actions }) => actions.some((a) => a.startsWith('ecr:'))),
    );
    expect(ecrStatements.length).toBeGreaterThan(2);
    for (const { actions, resource } of ecrStatements) {
      // Only the token, which has no resource, is granted on every repository of the account.
      if (actions.includes('ecr:GetAuthorizationToken'))
        expect({ actions, resource }).toEqual({ actions: ['ecr:GetAuthorizationToken'], resource: '*' });
      else expect(JSON.stringify(resource)).toMatch(/:repository\/berth\/\*"/);
    }
    app.platform.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['ecr:PutImage']),
            Resource: {
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':repository/berth/\\*$')])],
            },
          }),
        ]),
      },
    });
  });

  it("keeps a second install in the account and region apart: its repositories, Lambdas' scope and alarms' figures", () => {
    const staging = synth({ name: 'Staging' }, { bundled: false });
    const policies = JSON.stringify(staging.platform.findResources('AWS::IAM::Policy'));
    expect(policies).toMatch(/:repository\/staging\/\*"/);
    expect(policies).not.toMatch(/:repository\/berth\//);
    staging.platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_INSTALLATION: 'staging' }) },
    });
    staging.platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'appsNotScaled',
      Dimensions: [
        { Name: 'installation', Value: 'staging' },
        { Name: 'service', Value: 'scale' },
      ],
    });
  });

  it('writes the plans an installation starts with through a custom resource that may put items and read apps', () => {
    const { platform } = app.stacks;
    const logicalId = (c: IConstruct) => platform.getLogicalId(c.node.defaultChild as CfnElement);
    const install = platform.installFunction;
    app.platform.hasResourceProperties('Custom::BerthInstall', {
      ServiceToken: { 'Fn::GetAtt': [logicalId(install), 'Arn'] },
      // A change of the runtimes offered or of the apps' domain updates the resource, which checks it against the apps.
      Runtimes: ['fargate'],
      Domain: 'apps.example.com',
    });
    const policies = Object.values(
      app.platform.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: logicalId(install.role as IConstruct) }] },
      }),
    ) as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }[];
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Action: ['dynamodb:PutItem', 'dynamodb:Query'],
        Effect: 'Allow',
        // The table, and the one index that lists tenants.
        Resource: [
          { 'Fn::Join': ['', expect.arrayContaining([':table/Berth-state'])] },
          { 'Fn::Join': ['', expect.arrayContaining([':table/Berth-state/index/gsi1'])] },
        ],
      },
    ]);
  });

  it('deletes the install’s custom resource before anything else, so a stack deletion it refuses deletes nothing', () => {
    const installs = Object.keys(app.platform.findResources('Custom::BerthInstall'));
    expect(installs).toHaveLength(1);
    expect(deletedNoLaterThan(app.platform, installs[0] as string)).toEqual([]);
    // Sharded, with the API's own name and warm instances: more resources, none deleted before it either.
    const larger = synth(
      {
        loadBalancers: 2,
        hostedZone: { id: 'Z0123456789ABC', name: 'example.com' },
        api: { domain: 'api.example.com', certificateArn: context.berth.certificateArn },
        apiProvisionedConcurrency: 1,
      },
      { bundled: false },
    ).platform;
    const [install] = Object.keys(larger.findResources('Custom::BerthInstall'));
    expect(deletedNoLaterThan(larger, install as string)).toEqual([]);
  });

  it('keeps only the data when the stacks are deleted: the table, the buckets and the apps’ logs, under ids that stay', () => {
    expect(keptOnDeletion(app.data)).toEqual({
      TableCD117FA1: 'AWS::DynamoDB::GlobalTable',
      Reports65402A0A: 'AWS::S3::Bucket',
    });
    // The load balancers' access logs and the apps' log group; no key, queue or topic.
    expect(keptOnDeletion(app.platform)).toEqual({
      JobsAppLogsBF128EDC: 'AWS::Logs::LogGroup',
      LoadBalancerLogsC31A6119: 'AWS::S3::Bucket',
    });
  });

  it('runs the jobs on schedules, reconciles through a queue with a DLQ, and meters ECS task events', () => {
    const functions = app.platform.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x', Architectures: ['arm64'] },
    });
    expect(Object.keys(functions)).toHaveLength(8);
    const { platform } = app.stacks;
    const undelivered = {
      'Fn::GetAtt': [platform.getLogicalId(platform.jobs.undelivered.node.defaultChild as CfnElement), 'Arn'],
    };
    const schedules = Object.values(app.platform.findResources('AWS::Scheduler::Schedule')) as {
      Properties: {
        ScheduleExpression: string;
        Target: { Arn: unknown; RetryPolicy: unknown; DeadLetterConfig: unknown };
      };
    }[];
    expect(schedules.map((s) => s.Properties.ScheduleExpression).sort()).toEqual(
      ['rate(1 day)', 'rate(1 minute)', 'rate(1 minute)', 'rate(1 minute)'].sort(),
    );
    // Every schedule invokes a function, retries a run until the next is due (Lambda's 6 h at most) and keeps what
    // it could not deliver.
    for (const { Properties } of schedules) {
      const minutely = Properties.ScheduleExpression === 'rate(1 minute)';
      expect(Properties.Target).toMatchObject({
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/Function/), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: minutely ? 60 : 21600 },
        DeadLetterConfig: { Arn: undelivered },
      });
    }
    app.platform.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: undelivered },
        }),
      ],
    });
    // Runs that fail after Lambda's own retries land there too: the scheduled jobs' and the ECS events'.
    const onFailure = Object.values(app.platform.findResources('AWS::Lambda::EventInvokeConfig')).map(
      (r) => (r as { Properties: { DestinationConfig: { OnFailure: { Destination: unknown } } } }).Properties,
    );
    expect(onFailure).toHaveLength(5);
    for (const config of onFailure)
      expect(config.DestinationConfig.OnFailure.Destination).toEqual(undelivered);
    const reconcileTimeout = (
      app.platform.toJSON().Resources[
        platform.getLogicalId(platform.jobs.functions.reconcile.node.defaultChild as CfnElement)
      ] as { Properties: { Timeout: number } }
    ).Properties.Timeout;
    app.platform.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * reconcileTimeout,
    });
    app.platform.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      // A pass a message: no tenant's pass waits behind, or times out with, another's.
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 20 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    app.platform.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: Match.objectLike({ group: [{ prefix: 'service:berth_' }] }),
      }),
    });
    // Tenants' tasks get a role with nothing attached; the jobs may pass only the two task roles, only to ECS tasks.
    const taskRoleId = platform.getLogicalId(platform.jobs.taskRole.node.defaultChild as CfnElement);
    const policies = Object.values(app.platform.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: { Ref: string }[] };
    }[];
    expect(policies.some((p) => p.Properties.Roles.some((r) => r.Ref === taskRoleId))).toBe(false);
    app.platform.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          }),
        ]),
      },
    });
  });

  it('reserves Lambda concurrency for every job, the workers as many as the queue runs at once, none for the API', () => {
    const reservations = (template: Template) =>
      Object.fromEntries(
        Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => [
          lambdaName(id).replace(/^Jobs/, ''),
          (fn as { Properties: { ReservedConcurrentExecutions?: number } }).Properties
            .ReservedConcurrentExecutions,
        ]),
      );
    const workers = Object.values(app.platform.findResources('AWS::Lambda::EventSourceMapping'))[0] as {
      Properties: { ScalingConfig: { MaximumConcurrency: number } };
    };
    expect(reservations(app.platform)).toEqual({
      Api: undefined,
      Dispatch: 2,
      Reconcile: workers.Properties.ScalingConfig.MaximumConcurrency,
      Scale: 2,
      Meter: 2,
      Report: 2,
      EcsEvents: 10,
    });
    const small = synth({ reserveJobConcurrency: false }, { bundled: false });
    expect(Object.values(reservations(small.platform)).every((r) => r === undefined)).toBe(true);
  });

  it('grants no wildcard admin, and table and queue actions only on Berth’s own table and queues', () => {
    type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
    const statements = [app.data, app.platform].flatMap((template) =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
            .Statement,
      ),
    );
    const actionsOf = (s: Statement) => [s.Action].flat();
    const resourcesOf = (s: Statement) => [s.Resource].flat();
    for (const statement of statements) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
    const managed = [app.data, app.platform].flatMap((template) =>
      Object.values(template.findResources('AWS::IAM::Role')).flatMap(
        (r) => (r as { Properties: { ManagedPolicyArns?: unknown[] } }).Properties.ManagedPolicyArns ?? [],
      ),
    );
    expect(JSON.stringify(managed)).not.toMatch(/AdministratorAccess|PowerUserAccess|IAMFullAccess/);

    const { platform } = app.stacks;
    const queueRefs = [platform.jobs.queue, platform.jobs.deadLetters, platform.jobs.undelivered].map((q) =>
      JSON.stringify(platform.resolve(q.queueArn)),
    );
    const granting = (prefix: string) =>
      statements.filter((st) => actionsOf(st).some((a) => a.startsWith(prefix)));
    expect(granting('dynamodb:').length).toBeGreaterThan(0);
    expect(granting('sqs:').length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = actionsOf(statement);
      const resources = resourcesOf(statement).map((r) => JSON.stringify(r));
      if (actions.some((a) => a.startsWith('dynamodb:')))
        for (const resource of resources)
          expect(resource).toMatch(/:table\/Berth-state(\/index\/(\*|gsi1))?"/);
      if (actions.some((a) => a.startsWith('sqs:')))
        for (const resource of resources) expect(queueRefs).toContain(resource);
    }
  });

  it("lets tenants' tasks pull the install's images and write their logs, and nothing else; their own role has nothing", () => {
    const { platform } = app.stacks;
    const { jobs } = platform;
    const idOf = (role: { node: { defaultChild?: unknown } }) =>
      platform.getLogicalId(role.node.defaultChild as CfnElement);
    const statementsOf = (role: { node: { defaultChild?: unknown } }) => {
      const id = idOf(role);
      return Object.values(app.platform.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === id))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
    };
    expect(statementsOf(jobs.executionRole)).toEqual([
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Effect: 'Allow', Action: ECR_PULL_ACTIONS, Resource: INSTALL_REPOSITORIES_ARN },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: platform.resolve(jobs.appLogs.logGroupArn),
      },
    ]);
    // No policy names the tasks' own role, nor does it hold one, inline or managed.
    expect(statementsOf(jobs.taskRole)).toEqual([]);
    const taskRole = app.platform.findResources('AWS::IAM::Role')[idOf(jobs.taskRole)];
    expect(Object.keys(taskRole?.Properties ?? {}).sort()).toEqual([
      'AssumeRolePolicyDocument',
      'Description',
    ]);
  });

  it('lets each Lambda read only what it uses of the running apps', () => {
    const { platform } = app.stacks;
    const actionsOf = (role: CfnElement) =>
      new Set(actionsAllowedTo(app.platform, platform.getLogicalId(role)));
    const reads = {
      tasks: 'ecs:ListTasks',
      metrics: 'cloudwatch:GetMetricData',
      targetHealth: 'elasticloadbalancing:DescribeTargetHealth',
      logs: 'logs:GetLogEvents',
    };
    const readsOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
      const actions = actionsOf(fn.role?.node.defaultChild as CfnElement);
      return Object.entries(reads)
        .filter(([, action]) => actions.has(action))
        .map(([read]) => read);
    };
    const { functions } = platform.jobs;
    expect(readsOf(platform.apiFunction)).toEqual(['tasks', 'metrics', 'targetHealth', 'logs']);
    expect(readsOf(functions.reconcile)).toEqual(['tasks', 'targetHealth']);
    expect(readsOf(functions.scale)).toEqual(['tasks', 'metrics']);
    expect(readsOf(functions.meter)).toEqual(['tasks']);
    for (const fn of [functions.dispatch, functions.report, functions.ecsEvents])
      expect(readsOf(fn)).toEqual([]);
    // Only the reconcile worker's sweep lists the cluster's services.
    const listing = [platform.apiFunction, ...Object.values(functions)].filter((fn) =>
      actionsOf(fn.role?.node.defaultChild as CfnElement).has('ecs:ListServices'),
    );
    expect(listing).toEqual([functions.reconcile]);
    // Only the reconcile worker makes apps' routes, drain time included.
    const routing = [platform.apiFunction, ...Object.values(functions)].filter((fn) =>
      actionsOf(fn.role?.node.defaultChild as CfnElement).has(
        'elasticloadbalancing:ModifyTargetGroupAttributes',
      ),
    );
    expect(routing).toEqual([functions.reconcile]);
  });

  it('alarms on an encrypted topic (crashed jobs, dead letters, API 5xx, backlog, apps not scaled or not starting, orphans, reports left, a certificate expiring, a flood of app logs) and passes the sizes offered', () => {
    const told = synth(
      { alarmEmails: ['ops@example.com'], sizes: { cpus: [0.25, 0.5], maxMemoryMiB: 4096 } },
      { bundled: false },
    );
    const { platform } = told.stacks;
    const topic = { Ref: platform.getLogicalId(platform.alarms.topic.node.defaultChild as CfnElement) };
    const alarms = Object.values(told.platform.findResources('AWS::CloudWatch::Alarm')).map(
      (r) =>
        (
          r as {
            Properties: {
              MetricName: string;
              Namespace: string;
              Threshold: number;
              Statistic: string;
              EvaluationPeriods: number;
              Dimensions?: unknown[];
              AlarmActions: unknown[];
              Period: number;
              ComparisonOperator: string;
            };
          }
        ).Properties,
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([topic]);
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    expect(byMetric('Errors')).toHaveLength(8); // every Berth Lambda
    expect(byMetric('5xx')).toMatchObject([{ Namespace: 'AWS/ApiGateway', Threshold: 5 }]);
    // Both dead-letter queues at their first message; the work queue when it has not drained for three periods.
    expect(
      byMetric('ApproximateNumberOfMessagesVisible')
        .map((a) => [a.Statistic, a.EvaluationPeriods])
        .sort(),
    ).toEqual([
      ['Maximum', 1],
      ['Maximum', 1],
      ['Minimum', 3],
    ]);
    // Figures Berth's own handlers publish, each under the install's name and the handler's: apps the scale job could
    // not look at and apps whose tasks ECS cannot start (a quota, capacity, addresses), once either lasts; reports
    // left for the next run; and workloads a sweep found without their app, or would not remove.
    const ownFigures = {
      appsNotScaled: ['scale', 'Sum', 3],
      reportsLeft: ['report', 'Maximum', 1],
      appsNotStarting: ['reconcile', 'Sum', 3],
      orphanedWorkloadsRemoved: ['reconcile', 'Sum', 1],
      sweepsRefused: ['reconcile', 'Sum', 1],
    } as const;
    for (const [metric, [service, statistic, periods]] of Object.entries(ownFigures)) {
      expect(byMetric(metric)).toMatchObject([
        {
          Namespace: 'Berth',
          Dimensions: [
            { Name: 'installation', Value: 'berth' },
            { Name: 'service', Value: service },
          ],
          Statistic: statistic,
          Threshold: 1,
          EvaluationPeriods: periods,
        },
      ]);
    }
    // The apps' certificate, a month before it expires: one ACM failed to renew, or one imported.
    expect(byMetric('DaysToExpiry')).toMatchObject([
      {
        Namespace: 'AWS/CertificateManager',
        Dimensions: [{ Name: 'CertificateArn', Value: context.berth.certificateArn }],
        Statistic: 'Minimum',
        Period: 86_400,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 30,
      },
    ]);
    // The apps logging more in an hour than the install allows for (5 GiB unless it says otherwise): CloudWatch Logs
    // bills what it ingests, which no tenant's report carries.
    const appLogs = platform.getLogicalId(platform.jobs.appLogs.node.defaultChild as CfnElement);
    const flood = {
      Namespace: 'AWS/Logs',
      Dimensions: [{ Name: 'LogGroupName', Value: { Ref: appLogs } }],
      Statistic: 'Sum',
      Period: 3600,
    };
    expect(byMetric('IncomingBytes')).toMatchObject([{ ...flood, Threshold: 5 * 2 ** 30 }]);
    expect(
      synth({ appLogsAlarmGiBPerHour: 40 }, { bundled: false }).platform.findResources(
        'AWS::CloudWatch::Alarm',
        {
          Properties: { MetricName: 'IncomingBytes', Threshold: 40 * 2 ** 30 },
        },
      ),
    ).not.toEqual({});
    expect(alarms).toHaveLength(19);

    told.platform.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    told.platform.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    told.platform.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topic,
    });
    app.platform.resourceCountIs('AWS::SNS::Subscription', 0);
    // Without addresses, every synth and deploy says no one hears the alarms; with them, nothing.
    const unheard = (stack: Stack) =>
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('^No alarmEmails: the alarms'));
    expect(unheard(app.stacks.platform)).toHaveLength(1);
    expect(unheard(platform)).toEqual([]);
    expect(Object.keys(told.platform.findOutputs('*')).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'LoadBalancerDnsNames',
    ]);
    expect(() => synth({ alarmEmails: ['not an address'] })).toThrow(/alarmEmails/);

    // (The same install offers its tenants two sizes: every Lambda that checks specs is told.)
    told.platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BERTH_SIZES: JSON.stringify({ cpus: [0.25, 0.5], maxMemoryMiB: 4096 }),
        }),
      },
    });
    expect(() => synth({ sizes: { cpus: [3], maxMemoryMiB: 4096 } })).toThrow(/sizes\.cpus\.0/);
  });

  it("closes an app's idle connections after ALB's 60 s, or the install's appIdleTimeoutSeconds", () => {
    const idleTimeout = (template: Template) =>
      Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer')).map(
        (lb) =>
          (
            lb as { Properties: { LoadBalancerAttributes: { Key: string; Value: string }[] } }
          ).Properties.LoadBalancerAttributes.find((a) => a.Key === 'idle_timeout.timeout_seconds')?.Value,
      );
    expect(idleTimeout(app.platform)).toEqual(['60']);
    expect(idleTimeout(synth({ appIdleTimeoutSeconds: 900 }, { bundled: false }).platform)).toEqual(['900']);
    for (const wrong of [0, 4001, 1.5]) {
      expect(() =>
        berthApp({ context: { berth: { ...context.berth, appIdleTimeoutSeconds: wrong } } }),
      ).toThrow(/berth\.appIdleTimeoutSeconds/);
    }
  });

  it('shards apps over several load balancers when asked, each app then with its own alias record', () => {
    const sharded = synth(
      { loadBalancers: 3, hostedZone: { id: 'Z0123456789ABC', name: 'example.com' } },
      { bundled: false },
    );
    sharded.platform.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 3);
    expect(
      Object.keys(
        sharded.platform.findResources('AWS::ElasticLoadBalancingV2::Listener', {
          Properties: { Protocol: 'HTTPS' },
        }),
      ),
    ).toHaveLength(3);
    const { reconcile } = sharded.stacks.platform.jobs.functions;
    const reconcileId = sharded.stacks.platform.getLogicalId(reconcile.node.defaultChild as CfnElement);
    const variables = (
      sharded.platform.toJSON().Resources[reconcileId] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;
    expect(variables.BERTH_HOSTED_ZONE_ID).toBe('Z0123456789ABC');
    const joined = (variables.BERTH_LISTENERS as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(joined[1].filter((part) => part === ',')).toHaveLength(2); // three shards
    sharded.platform.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC',
            Condition: {
              'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
              'ForAllValues:StringLike': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.apps.example.com'],
              },
            },
          }),
        ]),
      },
    });
    expect(() => berthApp({ context: { berth: { ...context.berth, loadBalancers: 2 } } })).toThrow(
      /berth\.hostedZone: more than one load balancer needs hostedZone/,
    );
    expect(() =>
      berthApp({ context: { berth: { ...context.berth, hostedZone: { id: 'Z1', name: 'other.org' } } } }),
    ).toThrow(/the hosted zone must hold domain/);
  });

  it("keeps every Lambda's environment within the 4 KB Lambda takes, at the largest install", () => {
    // Every list at its longest, every name the install gives at the most its setting takes, and every value
    // CloudFormation gives at the longest AWS makes it (test/support/longest-values.ts).
    const region = 'ap-southeast-5';
    const largest = synth(
      {
        // The longest name the region leaves the reports bucket's name room for.
        name: `B${'b'.repeat(26)}`,
        region,
        account: '123456789012',
        certificateArn: `arn:aws:acm:${region}:123456789012:certificate/11111111-2222-3333-4444-555555555555`,
        availabilityZones: ['a', 'b', 'c'].map((zone) => `${region}${zone}`),
        natGateways: 3,
        domain: `${'a'.repeat(63)}.${'b'.repeat(24)}.example.com`,
        hostedZone: { id: `Z${'A'.repeat(31)}`, name: 'example.com' },
        loadBalancers: 20,
        runtimes: ['fargate', 'eks'],
        eks: {
          existingCluster: {
            name: `c${'c'.repeat(99)}`,
            loadBalancerCidrs: Array.from({ length: 16 }, (_, i) => `10.${100 + i}.128.0/17`),
            fargate: true,
          },
          ingressGroup: `g${'g'.repeat(62)}`,
        },
        prices: { ...DEFAULT_PRICE_TABLE, version: 'v'.repeat(64), minimumSecondsPerInstance: 60 },
        sizes: { cpus: [...FARGATE_CPUS], maxMemoryMiB: 122_880 },
        rateLimit: { perSecond: Number.MAX_VALUE, burst: Number.MAX_SAFE_INTEGER },
      },
      { bundled: false },
    );
    const { Resources } = largest.platform.toJSON() as {
      Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: object } } }>;
    };
    const place = { stack: largest.stacks.platform.stackName, region, account: '123456789012' };
    const sizes = Object.entries(Resources).flatMap(([id, resource]) => {
      const variables =
        resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment?.Variables;
      if (!variables) return [];
      const resolved = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, longestValue(value, Resources, place)]),
      );
      return [{ id, bytes: Buffer.byteLength(JSON.stringify(resolved)) }];
    });
    expect(sizes.length).toBeGreaterThanOrEqual(8);
    expect(sizes.filter(({ bytes }) => bytes > 4096)).toEqual([]);
  });

  it('serves the API at its own name when given one, and there only', () => {
    const certificateArn =
      'arn:aws:acm:eu-west-1:123456789012:certificate/99999999-2222-3333-4444-555555555555';
    const api = { domain: 'api.example.com', certificateArn };
    const named = synth(
      { api, hostedZone: { id: 'Z0123456789ABC', name: 'example.com' } },
      { bundled: false },
    );
    // Its certificate is watched as the apps' is.
    named.platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: certificateArn }],
    });
    named.platform.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: certificateArn, EndpointType: 'REGIONAL' }),
      ],
    });
    named.platform.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    named.platform.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: '$default' });
    named.platform.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
    });
    named.platform.hasOutput('ApiUrl', { Value: 'https://api.example.com' });
    expect(named.platform.findOutputs('ApiDomainTarget')).toEqual({});

    // Without a zone that holds the name, the operator is told where to point it.
    const unzoned = synth({ api }, { bundled: false });
    unzoned.platform.resourceCountIs('AWS::Route53::RecordSet', 0);
    unzoned.platform.hasOutput('ApiDomainTarget', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiDomain'), 'RegionalDomainName'] },
    });
    // Without a name, API Gateway's own address is the way in.
    app.platform.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    app.platform.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });

    const configured = (berth: Record<string, unknown>) => () =>
      berthApp({ context: { berth: { ...context.berth, ...berth } } });
    expect(configured({ api: { domain: 'api.apps.example.com', certificateArn } })).toThrow(
      /berth\.api\.domain: the API may not be named under domain/,
    );
    expect(
      configured({
        api: { domain: 'api.example.com', certificateArn: certificateArn.replace('eu-west-1', 'us-east-1') },
      }),
    ).toThrow(/berth\.api\.certificateArn: the certificate must be in region/);
    expect(configured({ certificateArn: certificateArn.replace('eu-west-1', 'us-east-1') })).toThrow(
      /berth\.certificateArn: the certificate must be in region/,
    );
  });

  it("gives up a table call DynamoDB never answers well within the API Lambda's timeout, for Berth's own 503", () => {
    const { platform } = app.stacks;
    const apiTimeoutMs =
      (
        app.platform.toJSON().Resources[
          platform.getLogicalId(platform.apiFunction.node.defaultChild as CfnElement)
        ] as { Properties: { Timeout: number } }
      ).Properties.Timeout * 1000;
    // Every try timed out, and the back-off before each retry at its ceiling.
    const { attempts, attemptTimeoutMs, baseDelayMs, maxDelayMs } = TABLE_CALLS;
    const backOffMs = Array.from({ length: attempts - 1 }, (_, i) =>
      Math.min(maxDelayMs, baseDelayMs * 2 ** i),
    );
    const longestCallMs = attempts * attemptTimeoutMs + backOffMs.reduce((a, b) => a + b, 0);
    // Half the timeout at most: the request makes other calls (its key, its rate) before the one that hangs.
    expect(longestCallMs).toBeLessThanOrEqual(apiTimeoutMs / 2);
  });

  it('keeps API instances initialised when asked: provisioned concurrency on the alias API Gateway invokes', () => {
    const integrationTarget = (template: Template) =>
      Object.values(template.findResources('AWS::ApiGatewayV2::Integration'))[0]?.Properties.IntegrationUri;
    // By default API Gateway invokes the function itself, on demand.
    app.platform.resourceCountIs('AWS::Lambda::Alias', 0);
    expect(integrationTarget(app.platform)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ApiFunction/), 'Arn'],
    });

    const warm = synth({ apiProvisionedConcurrency: 3 }, { bundled: false });
    warm.platform.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionName: { Ref: Match.stringLikeRegexp('^ApiFunction') },
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiFunctionCurrentVersion'), 'Version'] },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 },
    });
    const [alias] = Object.keys(warm.platform.findResources('AWS::Lambda::Alias'));
    expect(integrationTarget(warm.platform)).toEqual({ Ref: alias });
    warm.platform.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: alias },
      Principal: 'apigateway.amazonaws.com',
    });
    expect(() => synth({ apiProvisionedConcurrency: -1 }, { bundled: false })).toThrow(
      /apiProvisionedConcurrency/,
    );
  });

  it('names what is wrong in the configuration', () => {
    expect(() => berthApp({ context: { berth: { ...context.berth, domain: 'Apps.Example.com' } } })).toThrow(
      'berth.domain: must be a DNS name in lowercase, such as apps.example.com',
    );
    // sha256sum's whole line, pasted: the hash is asked for, and how to make it.
    const line = `${'0'.repeat(64)}  -`;
    expect(() => berthApp({ context: { berth: { ...context.berth, adminKeyHash: line } } })).toThrow(
      'berth.adminKeyHash: must be the SHA-256 of the admin key, 64 lowercase hex digits: printf %s "$KEY" | sha256sum',
    );
    // Two during a rotation, each an admin key; a third is refused.
    const [a, b, c] = ['a', 'b', 'c'].map((digit) => digit.repeat(64));
    synth({ adminKeyHash: [b, a] }, { bundled: false }).platform.hasResourceProperties(
      'AWS::Lambda::Function',
      {
        Environment: { Variables: Match.objectLike({ BERTH_ADMIN_KEY_HASH: `${b},${a}` }) },
      },
    );
    expect(() => berthApp({ context: { berth: { ...context.berth, adminKeyHash: [a, b, c] } } })).toThrow(
      /berth\.adminKeyHash/,
    );
    expect(() =>
      berthApp({ context: { berth: { ...context.berth, availabilityZones: ['us-east-1a', 'us-east-1b'] } } }),
    ).toThrow(/availabilityZones must lie in region/);
    const prices = { version: 'v1', vcpuHourMicroUsd: 1, gbHourMicroUsd: 1, minimumSecondsPerInstance: 300 };
    expect(() => berthApp({ context: { berth: { ...context.berth, prices } } })).toThrow(
      "berth.prices.minimumSecondsPerInstance: must be 0 (none) or 60 (Fargate's 1-minute minimum per instance)",
    );
    for (const region of ['cn-north-1', 'us-gov-west-1']) {
      expect(() => berthApp({ context: { berth: { ...context.berth, region } } })).toThrow(
        /berth\.region: must be a region of the aws partition/,
      );
    }
    // A name that leaves the reports bucket's name past S3's 63 characters in its region, which synthesis without an
    // account would not tell (CloudFormation would refuse the bucket at deploy); in a shorter region it fits.
    const name = `B${'b'.repeat(30)}`;
    expect(() => synth({ name }, { bundled: false })).not.toThrow();
    const longRegion = {
      ...context.berth,
      name,
      region: 'ap-southeast-5',
      certificateArn: context.berth.certificateArn.replace('eu-west-1', 'ap-southeast-5'),
      availabilityZones: ['ap-southeast-5a', 'ap-southeast-5b'],
    };
    expect(() => berthApp({ context: { berth: longRegion } })).toThrow(
      'berth.name: may have at most 27 characters in ap-southeast-5: the reports bucket, named ' +
        '<name>-reports-<account>-<region>, would have 67, and S3 takes 63',
    );
    expect(() => synth({ ...longRegion, name: name.slice(0, 27) }, { bundled: false })).not.toThrow();
    // The apps' domain leaves room for their names (an ALB matches hosts of 128 characters), and an existing EKS
    // cluster names its load balancers' subnets, a handful: what the Lambdas' environment holds stays bounded.
    expect(() =>
      berthApp({ context: { berth: { ...context.berth, domain: `${'a'.repeat(89)}.example.com` } } }),
    ).toThrow('berth.domain: may have at most 100 characters');
    const existingCluster = {
      name: 'platform',
      loadBalancerCidrs: Array.from({ length: 17 }, (_, i) => `10.${i}.0.0/16`),
      fargate: true,
    };
    expect(() =>
      berthApp({
        context: {
          berth: {
            ...context.berth,
            runtimes: ['fargate', 'eks'],
            hostedZone: { id: 'Z0123456789ABC', name: 'example.com' },
            eks: { existingCluster },
          },
        },
      }),
    ).toThrow(/berth\.eks\.existingCluster\.loadBalancerCidrs/);
  });

  it('bundles each Lambda with only the SDK clients it uses, and no source map', () => {
    const bundles = lambdaBundles(app.assembly, 'BerthPlatform');
    for (const bundle of bundles) {
      expect(bundle.files).toContain('index.mjs');
      expect(bundle.files.filter((f) => !/^(index|chunk-[A-Z0-9]+)\.mjs$/.test(f))).toEqual([]);
    }
    const byLambda = (pick: (b: (typeof bundles)[number]) => string[]) =>
      Object.fromEntries(bundles.map((b) => [lambdaName(b.id), pick(b)]));
    // Credentials come from the environment: no bundle carries the default chain's STS, SSO or sign-in clients. The
    // table is reached without the SDK (dynamodb-http.ts).
    expect(byLambda((b) => b.clients)).toEqual({
      // An install without EKS bundles no Kubernetes client at all; the API's STS scopes tenants' registry logins,
      // and its Route 53 reads the private zones an image's registry may not be in.
      Api: [
        'CloudWatch',
        'CloudWatch Logs',
        'ECR',
        'ECS',
        'Elastic Load Balancing v2',
        'Route 53',
        'SQS',
        'STS',
      ],
      Dispatch: ['SQS'],
      Reconcile: ['ECS', 'Elastic Load Balancing v2', 'Route 53', 'SQS'],
      Scale: ['CloudWatch', 'ECS', 'SQS'],
      Meter: ['ECS'],
      Report: ['S3'],
      EcsEvents: [],
      Install: [],
    });
    // A cold start of the API loads no SDK client: the queue's loads with the first write that changes an app, ECR,
    // Fargate's view of replicas and Route 53 with the first request that needs them.
    expect(byLambda((b) => b.startupClients).Api).toEqual([]);
  });

  it('bundles only the parts of zod that Berth uses: its English messages, no other locale', () => {
    for (const bundle of lambdaBundles(app.assembly, 'BerthPlatform')) {
      const code = codeIn(dirname(bundle.file), bundle.files);
      expect(code).toContain('Invalid input');
      // German, from zod's de locale, which only the whole `z` namespace brings.
      expect(code).not.toContain('Eingabe');
    }
  });

  it("loads no part of Node's fetch when a Lambda's bundle is imported, node:http loaded first as Lambda's runtime does", async () => {
    // In a fresh Node, as the runtime client leaves it: node:http loaded through require, Node's fetch (undici) not.
    // Whether it is loaded is read after the import, then after a first Request, which loads it (as the API's first
    // event does, through hono/aws-lambda): so the check is seen to tell.
    const coldImport = (file: string) => `
      import module from 'node:module';
      module.createRequire(import.meta.url)('node:http');
      const fetchLoaded = () => process.moduleLoadList.some((m) => m.includes('undici'));
      if (fetchLoaded()) throw new Error('loaded before the bundle');
      await import(${JSON.stringify(pathToFileURL(file).href)});
      const afterImport = fetchLoaded();
      new Request('https://example.com/');
      process.stdout.write(afterImport + ' ' + fetchLoaded());`;
    const env = {
      PATH: process.env.PATH,
      ...LAMBDA_ENV,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const bundles = lambdaBundles(app.assembly, 'BerthPlatform');
    expect(bundles).toHaveLength(8);
    for (const bundle of bundles) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', coldImport(bundle.file)],
        { env },
      );
      expect([bundle.id, stdout]).toEqual([bundle.id, 'false true']);
    }
  });

  it('keeps names in the bundles, so a stack trace in the logs names the functions it passed through', () => {
    const api = bundleOf('ApiFunction');
    const code = codeIn(dirname(api.file), api.files);
    // `var DynamoStore = class …` once syntax is minified: V8 names the class after the variable.
    expect(code).toMatch(/\bDynamoStore\s*=\s*class\b/);
    expect(code).toContain('function createApi(');
    expect(code).toContain('function makeKeyAuthenticator(');
  });

  it('bundles an API Lambda that answers from DynamoDB with credentials from the environment', async () => {
    const template = app.assembly.getStackByName('BerthPlatform').template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    const { platform } = app.stacks;
    const api = platform.getLogicalId(platform.apiFunction.node.defaultChild as CfnElement);
    const code = template.Resources[api];
    const hash = code?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    const dir = join(app.assembly.directory, `asset.${hash}`);
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8').length).toBeGreaterThan(10_000);
    // A table and a tenant on the run's DynamoDB Local, written by the local platform.
    const local = await localApi();
    const { key, id: keyId } = await local.createTenant('acme');
    // Mid-rotation: the next admin key's hash beside the current one's.
    const admins = [generateApiKey(), generateApiKey()];
    Object.assign(process.env, LAMBDA_ENV, {
      BERTH_ADMIN_KEY_HASH: admins.map(hashApiKey).join(','),
      BERTH_INSTALLATION: 'staging',
      BERTH_TABLE_NAME: local.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodb').endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    // Importing runs the Lambda's INIT: configuration, clients, routes.
    const { handler } = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as {
      handler: (
        event: unknown,
        context: unknown,
      ) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
    };
    const spec = await handler(httpApiEvent('GET', '/openapi.json'), LAMBDA_CONTEXT);
    expect(spec.statusCode).toBe(200);
    expect(JSON.parse(spec.body).openapi).toMatch(/^3\.1/);
    const apps = await handler(
      httpApiEvent('GET', '/v1/apps', { authorization: `Bearer ${key}` }),
      LAMBDA_CONTEXT,
    );
    expect({ status: apps.statusCode, body: JSON.parse(apps.body) }).toEqual({
      status: 200,
      body: { items: [], nextCursor: null },
    });
    // Named as API Gateway named the request (`requestContext.requestId`), as in its access log.
    expect(apps.headers['request-id']).toBe('r1');
    for (const admin of admins) {
      const plans = await handler(
        httpApiEvent('GET', '/v1/plans', { authorization: `Bearer ${admin}` }),
        LAMBDA_CONTEXT,
      );
      expect(plans.statusCode).toBe(200);
    }
    // A body sent with a GET (`curl -X GET -d …`), which API Gateway passes on, is left unread, as in local mode.
    const withBody = await handler(
      { ...httpApiEvent('GET', '/v1/apps', { authorization: `Bearer ${key}` }), body: '{"name":"web"}' },
      LAMBDA_CONTEXT,
    );
    expect({ status: withBody.statusCode, body: JSON.parse(withBody.body) }).toEqual({
      status: 200,
      body: { items: [], nextCursor: null },
    });
    // A body API Gateway passes on as it came (base64) reaches the API as its bytes: Latin-1 is refused, not changed.
    const latin1 = await handler(
      {
        ...httpApiEvent('POST', '/v1/repositories', {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
        }),
        body: Buffer.from('{"name":"café"}', 'latin1').toString('base64'),
        isBase64Encoded: true,
      },
      LAMBDA_CONTEXT,
    );
    expect({ status: latin1.statusCode, body: JSON.parse(latin1.body) }).toMatchObject({
      status: 400,
      body: { errors: [{ path: '(body)', message: 'must be UTF-8 (RFC 8259)' }] },
    });
    // API Gateway hands the path on decoded: `DELETE /v1/keys/<id>%23x` and `…%3Fx` name no key, as in local mode,
    // and delete none (Hono would read `#x` as a fragment, `?x` as a query string, and delete the key `<id>`).
    const created = await handler(
      httpApiEvent('POST', '/v1/keys', { authorization: `Bearer ${key}` }),
      LAMBDA_CONTEXT,
    );
    const second = JSON.parse(created.body) as { id: string; key: string };
    for (const decoded of [`${second.id}#x`, `${second.id}?x`, `x\\..\\${second.id}`]) {
      const removal = await handler(
        httpApiEvent('DELETE', `/v1/keys/${decoded}`, { authorization: `Bearer ${key}` }),
        LAMBDA_CONTEXT,
      );
      expect({ path: decoded, status: removal.statusCode }).toEqual({ path: decoded, status: 400 });
    }
    const withSecond = await handler(
      httpApiEvent('GET', '/v1/keys', { authorization: `Bearer ${second.key}` }),
      LAMBDA_CONTEXT,
    );
    expect(withSecond.statusCode).toBe(200);
    // JSON whose Content-Type has whitespace before its parameter (RFC 9110 lets it) is JSON through the Lambda too.
    let spaced: Awaited<ReturnType<typeof handler>> | undefined;
    const audited = printedBy(async () => {
      spaced = await handler(
        {
          ...httpApiEvent('POST', '/v1/keys', {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json ; charset=utf-8',
          }),
          body: '{"name":"spaced"}',
        },
        LAMBDA_CONTEXT,
      );
    });
    // The write is in the Lambda's log, with the key that made it and where from, which the access log cannot say.
    const lines = (await audited).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.message === 'audit')).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'audit',
        requestId: 'r1',
        method: 'POST',
        path: '/v1/keys',
        status: 201,
        role: 'tenant',
        key: keyId,
        tenantId: 'acme',
        ip: '203.0.113.1',
      }),
    ]);
    expect({ status: spaced?.statusCode, name: JSON.parse(spaced?.body ?? '{}').name }).toEqual({
      status: 201,
      name: 'spaced',
    });
    const printed = printedBy(async () => {
      const stranger = await handler(
        httpApiEvent('GET', '/v1/apps', { authorization: `Bearer ${key.slice(0, -4)}AAAA` }),
        LAMBDA_CONTEXT,
      );
      expect(stranger.statusCode).toBe(401);
    });
    // Each answer is counted in CloudWatch's embedded metric format, and nothing warns of empty metrics; the
    // figures carry the install's name, so another install in the account and region never adds to them.
    const emf = figuresIn(await printed);
    expect(emf).toEqual([
      expect.objectContaining({
        requests: 1,
        unauthorized: 1,
        rateLimited: 0,
        serverErrors: 0,
        service: 'api',
        installation: 'staging',
      }),
    ]);
    const [figures] = emf as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } }[];
    expect(figures?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'installation']]);
    expect((await printed).join('\n')).not.toContain('No application metrics');
    // The chunks a request loads on first use (ECR, Fargate's view of replicas, the reconcile queue) load beside it.
    for (const chunk of readdirSync(dir).filter((f) => f.startsWith('chunk-'))) {
      await expect(import(pathToFileURL(join(dir, chunk)).href)).resolves.toBeDefined();
    }
  });

  it("bundles an install Lambda that writes the starting plans and answers CloudFormation's URL", async () => {
    const install = bundleOf('InstallFunction');
    const client = localDynamoDbClient(inject('dynamodb'));
    const tableName = `t-${randomUUID()}`;
    await ensureTable(client, tableName);
    Object.assign(process.env, LAMBDA_ENV, {
      BERTH_TABLE_NAME: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodb').endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const { handler } = (await import(pathToFileURL(install.file).href)) as {
      handler: (event: unknown, context: unknown) => Promise<void>;
    };
    // CloudFormation's pre-signed S3 URL cannot be reached from here: its PUT is recorded, and answered as S3 would
    // (with `s3Status`); the table's requests go through to DynamoDB Local.
    const responseUrl =
      'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/a?b=c';
    const realFetch = globalThis.fetch;
    // S3's status, or `silent`: S3 takes the request and never answers.
    let s3Status: number | 'silent' = 200;
    const put = vi.spyOn(globalThis, 'fetch');
    put.mockImplementation(async (input, init) => {
      if (String(input) !== responseUrl) return realFetch(input, init);
      if (s3Status !== 'silent') return new Response(null, { status: s3Status });
      const { signal } = init ?? {};
      return new Promise<Response>((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason)),
      );
    });
    const toS3 = () => put.mock.calls.filter(([url]) => String(url) === responseUrl);
    const event = {
      RequestType: 'Create',
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:install',
      ResponseURL: responseUrl,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/BerthPlatform/1',
      RequestId: 'request-1',
      LogicalResourceId: 'Install',
      ResourceType: 'Custom::BerthInstall',
      ResourceProperties: { Runtimes: ['fargate'] },
    };
    try {
      const created = await printedBy(() => handler(event, LAMBDA_CONTEXT));
      expect(figuresIn(created)).toEqual([
        expect.objectContaining({ installSucceeded: 1, service: 'install', installation: 'berth' }),
      ]);
      expect(toS3()).toHaveLength(1);
      const [, init] = toS3()[0] ?? [];
      expect(init).toMatchObject({ method: 'PUT', headers: { 'content-type': '' } });
      expect(JSON.parse(String(init?.body))).toMatchObject({ Status: 'SUCCESS', RequestId: 'request-1' });
      const plans = await new DynamoStore(client, tableName).listPlans({ limit: 10 });
      expect(plans.items.map((p) => p.id)).toEqual(['free', 'pro']);
      // An answer S3 refuses is thrown, so Lambda's retries of the event send it again.
      s3Status = 403;
      const printed = await printedBy(() =>
        expect(handler(event, LAMBDA_CONTEXT)).rejects.toThrow(/answered 403/),
      );
      // Logged through Powertools with the error itself (its cause included, had it one), not only Lambda's record.
      const failed = printed.flatMap((line) =>
        line.includes('the invocation failed') ? [JSON.parse(line)] : [],
      );
      expect(failed).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          service: 'berth-install',
          // The invocation's own id, as Lambda's record of it has it: the line is found beside that record.
          function_request_id: LAMBDA_CONTEXT.awsRequestId,
          error: expect.objectContaining({
            message: expect.stringMatching(/answered 403/),
            stack: expect.any(String),
          }),
        }),
      ]);
      // An S3 that never answers is given up on while the invocation still has a second to say why.
      s3Status = 'silent';
      const withTime = { ...LAMBDA_CONTEXT, getRemainingTimeInMillis: () => 1_300 };
      const silent = await printedBy(() =>
        expect(handler(event, withTime)).rejects.toThrow(/did not answer within 300 ms/),
      );
      expect(silent.filter((line) => line.includes('the invocation failed'))).toHaveLength(1);
      // An install that fails (here its table is gone) is answered to CloudFormation, which rolls back, and counted.
      s3Status = 200;
      await client.call('DeleteTable', { TableName: tableName });
      const refused = await printedBy(() => handler({ ...event, RequestId: 'request-2' }, LAMBDA_CONTEXT));
      expect(figuresIn(refused)).toEqual([expect.objectContaining({ installFailed: 1, service: 'install' })]);
      expect(JSON.parse(String(toS3().at(-1)?.[1]?.body))).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringMatching(/^Berth's install failed: /),
        RequestId: 'request-2',
      });
    } finally {
      put.mockRestore();
    }
  });

  it('warms a provisioned API instance up during INIT with one read, and an on-demand one not at all', async () => {
    const api = bundleOf('ApiFunction');
    // DynamoDB as the API's client sees it: every request is recorded and answered "no such item", or refused.
    const targets: string[] = [];
    let refused = false;
    const dynamodb = createServer((req, res) => {
      targets.push(String(req.headers['x-amz-target']));
      req.resume().on('end', () => {
        res.writeHead(refused ? 400 : 200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(refused ? '{"__type":"com.amazon.coral.validate#ValidationException","message":"no"}' : '{}');
      });
    });
    await new Promise<void>((resolve) => dynamodb.listen(0, '127.0.0.1', resolve));
    const { port } = dynamodb.address() as AddressInfo;
    const initialize = (type: string) =>
      promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(api.file).href)});`],
        {
          env: {
            PATH: process.env.PATH,
            ...LAMBDA_ENV,
            AWS_LAMBDA_INITIALIZATION_TYPE: type,
            AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
          },
        },
      );
    try {
      await initialize('on-demand');
      expect(targets).toEqual([]);
      await initialize('provisioned-concurrency');
      expect(targets).toEqual(['DynamoDB_20120810.GetItem']);
      // A warm-up that fails leaves the work to the first requests, and says so: the INIT itself succeeds.
      refused = true;
      const { stderr } = await initialize('provisioned-concurrency');
      expect(stderr).toContain('could not warm up; the first request will load what it needs');
    } finally {
      dynamodb.close();
    }
  });

  it('sends what a request started before the API Lambda returns, which freezes it, and counts the answers it could not give', async () => {
    const api = bundleOf('ApiFunction');
    const local = await localApi();
    const { key } = await local.createTenant('acme');
    // The table (DynamoDB Local) and SQS, answering late when told to: what the Lambda has not waited for when it
    // returns is still pending there. The table fails every call once told to, as DynamoDB does when it cannot serve.
    const dynamodb = forwardedTo(inject('dynamodb').endpoint);
    let failing = false;
    const table = await answeringLate(async (req, body) =>
      failing
        ? {
            status: 500,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Buffer.from(
              JSON.stringify({
                __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
                message: 'Internal server error',
              }),
            ),
          }
        : dynamodb(req, body),
    );
    const sqs = await answeringLate(async (_req, body) => {
      const { MessageBody } = JSON.parse(body.toString('utf8')) as { MessageBody: string };
      const MD5OfMessageBody = createHash('md5').update(MessageBody).digest('hex');
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from(JSON.stringify({ MessageId: randomUUID(), MD5OfMessageBody })),
      };
    });
    // The VPC's private DNS zones, which an app's image may not be pulled from: none.
    const route53 = await answeringLate(async () => ({
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: Buffer.from(
        '<ListHostedZonesByVPCResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZoneSummaries/><MaxItems>100</MaxItems></ListHostedZonesByVPCResponse>',
      ),
    }));
    for (const [name, value] of Object.entries({
      ...LAMBDA_ENV,
      BERTH_TABLE_NAME: local.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      BERTH_RECONCILE_QUEUE_URL: `${sqs.endpoint}/123456789012/reconcile`,
      AWS_ENDPOINT_URL_ROUTE_53: route53.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    }))
      vi.stubEnv(name, value);
    try {
      // A module of its own (the query of its URL): an INIT with this environment, whatever the other tests loaded.
      const { handler } = (await import(`${pathToFileURL(api.file).href}?in-flight`)) as {
        handler: (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
      };
      const call = (method: string, path: string, body?: unknown) =>
        handler(
          {
            ...httpApiEvent(method, path, {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
            }),
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          },
          LAMBDA_CONTEXT,
        );
      // The key's first use is written beside the request, not before its answer: the Lambda waits for it.
      table.late(300, 'DynamoDB_20120810.TransactWriteItems');
      expect((await call('GET', '/v1/apps')).statusCode).toBe(200);
      expect({
        pending: table.pending(),
        writes: table.operations.filter((operation) => operation.endsWith('.TransactWriteItems')),
      }).toEqual({ pending: 0, writes: ['DynamoDB_20120810.TransactWriteItems'] });
      // An app's creation nudges its reconcile, which the Lambda sends before it returns.
      table.late(0);
      sqs.late(200);
      const app = {
        name: 'web',
        image: 'registry.example.com/acme/web:1',
        cpu: 0.25,
        memory: 512,
        port: 8080,
      };
      expect((await call('POST', '/v1/apps', app)).statusCode).toBe(201);
      expect({ pending: sqs.pending(), sent: sqs.operations }).toEqual({
        pending: 0,
        sent: ['AmazonSQS.SendMessage'],
      });
      // A table that cannot serve is Berth's 503, to be retried, counted among the API's server errors.
      failing = true;
      let status = 0;
      const printed = await printedBy(async () => {
        status = (await call('GET', '/v1/apps')).statusCode;
      });
      expect({ status, figures: figuresIn(printed) }).toEqual({
        status: 503,
        figures: [expect.objectContaining({ requests: 1, unauthorized: 0, rateLimited: 0, serverErrors: 1 })],
      });
    } finally {
      vi.unstubAllEnvs();
      await Promise.all([table.close(), sqs.close(), route53.close()]);
    }
  });
});
