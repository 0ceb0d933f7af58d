import { App, type AppProps, type Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeFindings } from './acknowledgements.ts';
import { readInstallConfig, reportBucketNameOf } from './config.ts';
import { DataStack } from './data-stack.ts';
import { FEATURE_FLAGS } from './feature-flags.ts';
import { PlatformStack } from './platform-stack.ts';

/**
 * The CDK app of an install: data and platform stacks, checked by cdk-nag's AWS Solutions rules at synthesis. Its
 * stacks report nothing to AWS of what they are made of (no `AWS::CDK::Metadata`), as the CLI's telemetry is off.
 */
export function berthApp(props: AppProps = {}) {
  const app = new App({
    analyticsReporting: false,
    ...props,
    context: { ...FEATURE_FLAGS, ...props.context },
  });
  const config = readInstallConfig(app.node.tryGetContext('berth'));
  const env = { region: config.region, ...(config.account ? { account: config.account } : {}) };
  const tableName = `${config.name}-state`;
  // Named from the account and region, so both stacks name it without a cross-stack export.
  const reportBucketName = (stack: Stack) => reportBucketNameOf(config, stack.account, stack.region);
  const data = new DataStack(app, `${config.name}Data`, {
    env,
    tableName,
    reportBucketName,
    description: 'Berth: state (DynamoDB table); kept apart so the rest can be replaced',
    terminationProtection: true,
  });
  const platform = new PlatformStack(app, `${config.name}Platform`, {
    env,
    description: 'Berth: network, ECS cluster, shared load balancer, API',
    config,
    tableName,
    reportBucketName,
  });
  platform.addStackDependency(data);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  acknowledgeFindings({ data, platform, config, tableName });
  return { app, config, data, platform };
}
