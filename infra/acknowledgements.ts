import { Validations } from 'aws-cdk-lib';
import type { InstallConfig } from './config.ts';
import type { PlatformStack } from './platform-stack.ts';

/**
 * Every cdk-nag finding Berth accepts, with why — in one place, each on the narrowest construct it applies to.
 */
export function acknowledgeFindings({
  platform,
  config,
  tableName,
}: {
  platform: PlatformStack;
  config: InstallConfig;
  tableName: string;
}) {
  const account = config.account ?? '<AWS::AccountId>';
  const repositories = `Resource::arn:aws:ecr:${config.region}:${account}:repository/berth/*`;
  Validations.of(platform.apiFunction).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS-managed basic execution role only lets the function write its own logs.',
    },
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:DescribeRepositories lists the account’s repositories (the adapter keeps only berth/<tenant>/); it has no narrower resource when listing.',
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${repositories}]`,
      reason:
        "Berth manages every repository under berth/; tenants' access is narrowed per session by the API.",
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:${config.region}:${account}:table/${tableName}/index/*]`,
      reason: "The store queries the table's global secondary indexes.",
    },
  );
  Validations.of(platform.node.findChild('RegistryPushRole')).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions.',
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[${repositories}]`,
      reason: 'The role is only ever assumed with a session policy narrowed to repository/berth/<tenant>/*.',
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
}
