import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { DomainName, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import {
  FlowLogDestination,
  GatewayVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import {
  type ApplicationListener,
  ApplicationLoadBalancer,
  ApplicationProtocol,
  ListenerAction,
  type SslPolicy,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Effect, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import {
  Alias,
  Architecture,
  type FunctionProps,
  type IFunction,
  Function as LambdaFunction,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { APPS_TLS_POLICY } from '../functions/adapters/alb/apps-listener.ts';
import { TABLE_KEYS } from '../functions/adapters/dynamodb/table.ts';
import { ECR_PUSH_ACTIONS, installRepositoriesArn } from '../functions/adapters/ecr/ecr-names.ts';
import { PlatformAlarms } from './alarms.ts';
import { API_ACCESS_LOG_FORMAT } from './api-access-log.ts';
import { type InstallConfig, installationOf, inZone } from './config.ts';
import { EksRuntimeCluster } from './eks.ts';
import { bundleDefine } from './handler-bundling.ts';
import { Jobs } from './jobs.ts';
import { handlerCode } from './lambda-code.ts';

export interface PlatformStackProps extends StackProps {
  config: InstallConfig;
  /** The data stack's table and report bucket, by name: no cross-stack export ties the stacks together. */
  tableName: string;
  reportBucketName: (stack: Stack) => string;
}

/**
 * The stateless part of an install: network, ECS cluster, the shared load balancer for tenants' apps, and the API
 * (HTTP API → the API Lambda).
 */
export class PlatformStack extends Stack {
  readonly api: HttpApi;
  readonly apiFunction: LambdaFunction;
  /** Backs the install's custom resource: the plans an installation starts with. */
  readonly installFunction: LambdaFunction;
  /** The shared load balancers for apps on Fargate, with their HTTPS listeners, in fill order. */
  readonly loadBalancers: { loadBalancer: ApplicationLoadBalancer; https: ApplicationListener }[];
  readonly jobs: Jobs;
  readonly alarms: PlatformAlarms;
  /** Where apps with `runtime: "eks"` run, when the install offers EKS. */
  readonly eks: EksRuntimeCluster | undefined;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const installation = installationOf(config);
    const table = TableV2.fromTableAttributes(this, 'Table', {
      tableName: props.tableName,
      globalIndexes: TABLE_KEYS.indexes.map((index) => index.name),
    });
    const retention = config.logRetentionDays;
    const logGroup = (name: string) =>
      new LogGroup(this, `${name}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });

    const vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.64.0.0/16'),
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 22 },
        { name: 'apps', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: { all: { destination: FlowLogDestination.toCloudWatchLogs(logGroup('VpcFlow')) } },
      // ECR keeps image layers in S3: a task's pull of them goes through this endpoint, which costs nothing, rather
      // than through the NAT gateway, which bills each GB it passes.
      gatewayEndpoints: { S3: { service: GatewayVpcEndpointAwsService.S3 } },
    });

    const cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENHANCED });

    const accessLogs = new Bucket(this, 'LoadBalancerLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const albSecurityGroup = new SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'Tenant apps - HTTPS from anywhere, HTTP only to redirect',
      allowAllOutbound: true,
    });
    albSecurityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to tenants apps');
    albSecurityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(80), 'redirected to HTTPS');
    const certificate = Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn);
    // Shards: apps' host rules fill the first load balancer, then the next (AlbAppRoutes).
    this.loadBalancers = Array.from({ length: config.loadBalancers }, (_, i) => {
      const loadBalancer = new ApplicationLoadBalancer(
        this,
        i ? `AppsLoadBalancer${i + 1}` : 'AppsLoadBalancer',
        {
          vpc,
          internetFacing: true,
          securityGroup: albSecurityGroup,
          dropInvalidHeaderFields: true,
          idleTimeout: Duration.seconds(config.appIdleTimeoutSeconds),
        },
      );
      loadBalancer.logAccessLogs(accessLogs, i ? `apps-${i + 1}` : 'apps');
      // The listeners add no rules of their own to the security group: its two above are all it admits.
      const https = loadBalancer.addListener('Https', {
        protocol: ApplicationProtocol.HTTPS,
        port: 443,
        open: false,
        sslPolicy: APPS_TLS_POLICY as SslPolicy,
        certificates: [certificate],
        // Each app gets a host-header rule and a target group of its own; unknown hosts get 404.
        defaultAction: ListenerAction.fixedResponse(404, {
          contentType: 'application/problem+json',
          messageBody: JSON.stringify({
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            code: 'route.notFound',
          }),
        }),
      });
      loadBalancer.addListener('Http', {
        protocol: ApplicationProtocol.HTTP,
        port: 80,
        open: false,
        defaultAction: ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      return { loadBalancer, https };
    });

    this.eks =
      config.eks &&
      new EksRuntimeCluster(this, 'Eks', {
        eks: config.eks,
        vpc,
        installation,
        appIdleTimeoutSeconds: config.appIdleTimeoutSeconds,
        accessLogs,
      });

    const environment: Record<string, string> = {
      BERTH_RUNTIMES: config.runtimes.join(','),
      ...this.eks?.environment,
      BERTH_ACCOUNT_ID: this.account,
      BERTH_INSTALLATION: installation,
      BERTH_TABLE_NAME: table.tableName,
      BERTH_APP_DOMAIN: config.domain,
      BERTH_ADMIN_KEY_HASH: config.adminKeyHash.join(','),
      BERTH_PRICE_TABLE: JSON.stringify(config.prices),
      ...(config.sizes ? { BERTH_SIZES: JSON.stringify(config.sizes) } : {}),
      BERTH_RATE_LIMIT_PER_SECOND: String(config.rateLimit.perSecond),
      BERTH_RATE_LIMIT_BURST: String(config.rateLimit.burst),
      BERTH_REPORT_BUCKET: props.reportBucketName(this),
    };
    const define = bundleDefine(Boolean(config.eks));
    const lambda = (id: string, entry: string, extra: Partial<FunctionProps> = {}) =>
      new LambdaFunction(this, id, {
        code: handlerCode(`functions/handlers/${entry}.ts`, define),
        handler: 'index.handler',
        runtime: Runtime.NODEJS_24_X,
        architecture: Architecture.ARM_64,
        memorySize: 1024,
        timeout: Duration.seconds(29),
        logGroup: logGroup(id),
        ...extra,
        environment: { ...environment, ...extra.environment },
      });
    this.apiFunction = lambda('ApiFunction', 'api');
    table.grantReadWriteData(this.apiFunction);

    // The plans every installation starts with, written when the stack is created, and a deployment refused that
    // stops offering a runtime apps run on (see functions/jobs/install.ts): it reads every tenant's apps.
    this.installFunction = lambda('InstallFunction', 'install', { timeout: Duration.minutes(5) });
    // A conditional put of each plan; the tenants (on the index that lists them) and their apps read.
    this.installFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:Query'],
        resources: [table.tableArn, `${table.tableArn}/index/gsi1`],
      }),
    );
    const install = new CustomResource(this, 'Install', {
      serviceToken: this.installFunction.functionArn,
      resourceType: 'Custom::BerthInstall',
      // A change of the runtimes offered, the EKS cluster or the apps' domain is an update of the resource: checked
      // against the apps before it lands.
      properties: {
        Runtimes: config.runtimes,
        Domain: config.domain,
        ...(this.eks ? { EksCluster: this.eks.clusterName } : {}),
      },
    });

    const repositories = installRepositoriesArn(this.region, this.account, installation);
    // Tenants' docker logins: the API assumes this role with a session policy narrowed to one tenant.
    const pushRole = new Role(this, 'RegistryPushRole', {
      assumedBy: this.apiFunction.grantPrincipal,
      description: "docker push/pull on Berth's repositories; every session is scoped down to one tenant",
      maxSessionDuration: Duration.hours(1),
    });
    pushRole.addToPolicy(
      new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'], effect: Effect.ALLOW }),
    );
    pushRole.addToPolicy(
      new PolicyStatement({
        actions: ECR_PUSH_ACTIONS,
        resources: [repositories],
      }),
    );
    environment.BERTH_REGISTRY_PUSH_ROLE_ARN = pushRole.roleArn;
    this.apiFunction.addEnvironment('BERTH_REGISTRY_PUSH_ROLE_ARN', pushRole.roleArn);
    this.apiFunction.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ecr:CreateRepository',
          'ecr:DeleteRepository',
          'ecr:PutLifecyclePolicy',
          'ecr:TagResource',
          'ecr:DescribeImages',
          // An image's platform, checked before a revision runs it: its manifest, and its config blob.
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          // Holding a revision's image for its app, and letting go of it: a tag of Berth's own (holdImage).
          'ecr:PutImage',
          'ecr:BatchDeleteImage',
        ],
        resources: [repositories],
      }),
    );

    // With its own name, the API answers there only: one way in, one throttle and one access log.
    const apiName = customApiName(this, config);
    this.api = new HttpApi(this, 'Api', {
      description: 'Berth control plane API',
      defaultIntegration: new HttpLambdaIntegration('ApiIntegration', apiTarget(this.apiFunction, config)),
      createDefaultStage: false,
      disableExecuteApiEndpoint: Boolean(apiName),
    });
    new HttpStage(this, 'ApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(logGroup('ApiAccess')),
        format: API_ACCESS_LOG_FORMAT,
      },
      ...(apiName ? { domainMapping: { domainName: apiName.domain } } : {}),
    });

    this.jobs = new Jobs(this, 'Jobs', {
      config,
      vpc,
      cluster,
      table,
      loadBalancers: this.loadBalancers,
      loadBalancerSecurityGroup: albSecurityGroup,
      lambda,
      environment,
    });
    // The API shows replicas, and its writes nudge the reconcile queue so a deploy starts at once.
    for (const [name, value] of Object.entries(this.jobs.runtimeEnvironment))
      this.apiFunction.addEnvironment(name, value);
    this.jobs.grantRuntimeRead(this.apiFunction, 'tasks', 'metrics', 'targetHealth', 'logs');
    this.jobs.queue.grantSendMessages(this.apiFunction);
    // An image from another registry may not name a host under a private zone of the apps' VPC (core/images.ts);
    // Route 53 checks the VPC with the caller's rights. Neither action has a narrower resource.
    this.apiFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['route53:ListHostedZonesByVPC', 'ec2:DescribeVpcs'],
        resources: ['*'],
      }),
    );
    const { functions } = this.jobs;
    if (this.eks) {
      this.eks.grantAccess(this.apiFunction);
      this.eks.grantAccess(functions.reconcile);
      this.eks.grantAccess(functions.scale);
      this.eks.grantAccess(functions.meter);
    }
    this.jobs.functions.report.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [`arn:aws:s3:::${props.reportBucketName(this)}/reports/*`],
      }),
    );

    this.alarms = new PlatformAlarms(this, 'Alarms', {
      functions: { Api: this.apiFunction, Install: this.installFunction, ...capitalized(functions) },
      api: this.api,
      deadLetterQueues: {
        ReconcileDeadLetters: this.jobs.deadLetters,
        UndeliveredInvocations: this.jobs.undelivered,
      },
      workQueue: this.jobs.queue,
      emails: config.alarmEmails,
      installation,
      certificates: {
        Apps: { arn: config.certificateArn, serves: 'the apps' },
        ...(config.api ? { Api: { arn: config.api.certificateArn, serves: 'the API' } } : {}),
      },
      appLogs: { logGroupName: this.jobs.appLogs.logGroupName, gibPerHour: config.appLogsAlarmGiBPerHour },
    });

    // Deleted before everything else in the stack, as it refuses while apps remain (functions/jobs/install.ts): a
    // deletion it refuses has deleted nothing, and the API, the jobs and the apps' routes still serve.
    install.node.addDependency(...this.node.children.filter((child) => child !== install));

    new CfnOutput(this, 'ApiUrl', {
      description: "Berth's API",
      value: apiName ? `https://${apiName.name}` : this.api.apiEndpoint,
    });
    if (apiName && !apiName.recorded) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Point ${apiName.name} here (an alias or CNAME record): API Gateway's name for it`,
        value: apiName.domain.regionalDomainName,
      });
    }
    new CfnOutput(this, 'LoadBalancerDnsNames', {
      description:
        'The shared load balancers apps are served by (point the apps’ wildcard record at the first)',
      value: this.loadBalancers.map((lb) => lb.loadBalancer.loadBalancerDnsName).join(','),
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe here to hear of failed jobs, dead letters and API errors',
      value: this.alarms.topic.topicArn,
    });
  }
}

/**
 * The API's own name when the install gives it one: API Gateway's custom domain, and its alias record when the
 * install's hosted zone holds the name (`recorded`; else the operator points the name at `ApiDomainTarget`).
 */
function customApiName(scope: Stack, config: InstallConfig) {
  const { api, hostedZone: zone } = config;
  if (!api) return undefined;
  const domain = new DomainName(scope, 'ApiDomain', {
    domainName: api.domain,
    certificate: Certificate.fromCertificateArn(scope, 'ApiCertificate', api.certificateArn),
  });
  if (!zone || !inZone(api.domain, zone.name)) return { name: api.domain, domain, recorded: false };
  new ARecord(scope, 'ApiRecord', {
    zone: HostedZone.fromHostedZoneAttributes(scope, 'Zone', { hostedZoneId: zone.id, zoneName: zone.name }),
    recordName: api.domain,
    target: RecordTarget.fromAlias(
      new ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
    ),
  });
  return { name: api.domain, domain, recorded: true };
}

/** `{ reconcile: fn }` → `{ Reconcile: fn }`, for construct ids. */
const capitalized = <T>(byName: Record<string, T>): Record<string, T> =>
  Object.fromEntries(
    Object.entries(byName).map(([name, value]) => [name[0]?.toUpperCase() + name.slice(1), value]),
  );

/**
 * What API Gateway invokes: the API Lambda itself, or with provisioned concurrency its `live` alias, pointing at the
 * version each deployment publishes, with that many instances kept initialised.
 */
function apiTarget(fn: LambdaFunction, config: InstallConfig): IFunction {
  const instances = config.apiProvisionedConcurrency;
  if (instances === 0) return fn;
  return new Alias(fn, 'Live', {
    aliasName: 'live',
    version: fn.currentVersion,
    provisionedConcurrentExecutions: instances,
  });
}
