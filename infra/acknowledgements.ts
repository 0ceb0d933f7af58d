import { CfnCondition, type CfnElement, Validations } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { installRepositoriesArn, repositoryRoot } from '../functions/adapters/ecr/ecr-names.ts';
import { type InstallConfig, installationOf, reportBucketNameOf } from './config.ts';
import type { DataStack } from './data-stack.ts';
import type { PlatformStack } from './platform-stack.ts';

/**
 * Every cdk-nag finding Berth accepts, with why — in one place, each on the narrowest construct it applies to.
 */
export function acknowledgeFindings({
  data,
  platform,
  config,
  tableName,
}: {
  data: DataStack;
  platform: PlatformStack;
  config: InstallConfig;
  tableName: string;
}) {
  const account = config.account ?? '<AWS::AccountId>';
  const installation = installationOf(config);
  const root = repositoryRoot(installation);
  const repositories = `Resource::${installRepositoriesArn(config.region, account, installation)}`;
  Validations.of(platform.apiFunction).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS-managed basic execution role only lets the function write its own logs.',
    },
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        "CloudWatch GetMetricData, ALB target-health reads and the VPC's private zones (Route 53 ListHostedZonesByVPC, with the ec2:DescribeVpcs it checks) have no narrower resource; ECS task reads are conditioned on the cluster.",
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${repositories}]`,
      reason: `Berth manages every repository under ${root}; tenants' access is narrowed per session by the API.`,
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:dynamodb:${config.region}:${account}:table/${tableName}/index/*]`,
      reason: "The store queries the table's global secondary indexes.",
    },
  );
  Validations.of(platform.installFunction).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The AWS-managed basic execution role only lets the function write its own logs.',
  });
  Validations.of(platform.node.findChild('RegistryPushRole')).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions.',
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${repositories}]`,
      reason: `The role is only ever assumed with a session policy narrowed to repository/${root}<tenant>/*.`,
    },
  );
  Validations.of(platform.node.findChild('LoadBalancerSecurityGroup')).acknowledge({
    id: 'AwsSolutions::AwsSolutions-EC23',
    reason:
      "The shared load balancer serves tenants' public apps: HTTPS (and HTTP, redirected) from anywhere.",
  });
  Validations.of(platform.node.findChild('LoadBalancerLogs')).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason: 'This bucket holds the load balancer access logs; logging it to itself would loop.',
  });
  Validations.of(platform.api).acknowledge({
    id: 'AwsSolutions::AwsSolutions-APIG4',
    reason: 'Berth authenticates every request itself (bearer API keys, hashed, checked per route).',
  });

  Validations.of(platform.jobs.undelivered).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue: of the schedules, the ECS event rule and their functions’ failed asynchronous runs (cdk-nag only recognizes a DLQ named in a redrive policy).',
  });

  const index = `Resource::arn:aws:dynamodb:${config.region}:${account}:table/${tableName}/index/*`;
  const jobs = platform.jobs.functions;
  for (const fn of Object.values(jobs)) {
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS-managed basic execution role only lets the function write its own logs.',
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[${index}]`,
        reason: "The store queries the table's global secondary indexes.",
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Task definitions, target groups, rules and metrics are created at run time per tenant app, so they cannot be named here; ECS task reads are conditioned on the cluster, iam:PassRole is limited to the two task roles, iam:CreateServiceLinkedRole to ECS.',
      },
    );
  }
  const cluster = platform.getLogicalId(platform.node.findChild('Cluster').node.defaultChild as CfnElement);
  const ecsArn = `Resource::arn:aws:ecs:${config.region}:${account}`;
  Validations.of(jobs.reconcile).acknowledge(
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${ecsArn}:service/<${cluster}>/berth_*]`,
      reason:
        "The reconcile workers manage one ECS service per tenant app, all named berth_*, in Berth's cluster.",
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${ecsArn}:task-definition/berth-*:*]`,
      reason: 'They tag the task definitions they register: one family per tenant app, all named berth-*.',
    },
  );
  Validations.of(platform.jobs.executionRole).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions.',
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${repositories}]`,
      reason: `Tasks pull tenants' images from any repository under ${root}.`,
    },
  );
  const scheduled = [jobs.dispatch, jobs.scale, jobs.meter, jobs.report].map(
    (fn) =>
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${platform.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
  );
  for (const role of platform.node.children.filter((c) => c.node.id.startsWith('SchedulerRoleForTarget'))) {
    Validations.of(role).acknowledge(
      ...scheduled.map((id) => ({
        id,
        reason: "EventBridge Scheduler's role may invoke its target function's versions.",
      })),
    );
  }
  Validations.of(jobs.report).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::${reportBucketNameOf(config, account, config.region)}/reports/*]`,
    reason: 'The report job writes one object per tenant and month under reports/.',
  });
  Validations.of(data.reports).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'Only the report job writes here; reads are audited with CloudTrail data events if the operator wants them.',
  });
  if (platform.eks) acknowledgeEksFindings(platform, platform.eks);
}

/**
 * The EKS cluster's findings: all on constructs aws-cdk-lib's aws-eks-v2 makes (the cluster and pod execution roles,
 * the kubectl provider that applies Berth's ClusterRole at deploy time, the load balancer controller's role).
 */
function acknowledgeEksFindings(platform: PlatformStack, eks: IConstruct) {
  const all = eks.node.findAll();
  const logicalId = (found: IConstruct | undefined) => platform.getLogicalId(found as CfnElement);
  const ecrPublic = logicalId(all.find((c) => c instanceof CfnCondition && c.node.id === 'HasEcrPublic'));
  const handler = logicalId(all.find((c) => c instanceof CfnFunction && c.node.path.includes('/Handler/')));
  const managed = (policy: string) =>
    `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`;
  Validations.of(eks).acknowledge(
    ...['AmazonEKSClusterPolicy', 'AmazonEKSFargatePodExecutionRolePolicy'].map((policy) => ({
      id: managed(policy),
      reason: 'EKS requires these AWS-managed policies on the cluster role and Fargate pod execution roles.',
    })),
    ...[
      'service-role/AWSLambdaBasicExecutionRole',
      'service-role/AWSLambdaVPCAccessExecutionRole',
      'AmazonEC2ContainerRegistryReadOnly',
    ].map((policy) => ({
      id: managed(policy),
      reason: "aws-cdk-lib's kubectl provider (deploy time only) runs with these AWS-managed policies.",
    })),
    {
      id: `AwsSolutions::AwsSolutions-IAM4[Policy::{"Fn::If":["${ecrPublic}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`,
      reason: "aws-cdk-lib's kubectl provider pulls its image from ECR Public where the region has it.",
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${handler}.Arn>:*]`,
      reason: "The kubectl provider's framework may invoke its handler function's versions.",
    },
    {
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: "The kubectl handler's runtime is chosen by aws-cdk-lib to match the kubectl layer.",
    },
  );
  const albController = platform.node.children.find((c) => c.node.id.endsWith('-AlbController'));
  if (albController) {
    Validations.of(albController).acknowledge(
      ...[
        'Resource::*',
        'Resource::arn:<AWS::Partition>:ec2:*:*:security-group/*',
        ...['listener-rule/app/*/*/*', 'listener-rule/net/*/*/*', 'listener/app/*/*/*', 'listener/net/*/*/*']
          .concat(['loadbalancer/app/*/*', 'loadbalancer/net/*/*', 'targetgroup/*/*'])
          .map((r) => `Resource::arn:<AWS::Partition>:elasticloadbalancing:*:*:${r}`),
      ].map((resource) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[${resource}]`,
        reason:
          "The AWS Load Balancer Controller's published IAM policy: it creates load balancers, listeners, rules and target groups for Ingresses at run time, conditioned on its cluster tag.",
      })),
    );
  }
}
