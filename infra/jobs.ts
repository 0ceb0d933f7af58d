import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IVpc, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import type { IApplicationListener, IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { FunctionProps, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ECR_PULL_ACTIONS, installRepositoriesArn } from '../functions/adapters/ecr/ecr-names.ts';
import { type InstallConfig, installationOf } from './config.ts';

/** How long a job Lambda may run. */
const JOB_TIMEOUT = Duration.minutes(5);
/** Lambda keeps retrying an asynchronous invocation for at most six hours. */
const MAX_EVENT_AGE = Duration.hours(6);
/**
 * How long an ECS task event is worth delivering. One lost even so costs no usage: the meter also lists the tasks
 * ECS stopped (it shows them for an hour) every minute.
 */
const ECS_EVENT_MAX_AGE = Duration.hours(2);
/** Reconcile workers at once (the queue's MaximumConcurrency). */
const RECONCILE_WORKERS = 20;
/**
 * Lambda concurrency reserved for each job (`reserveJobConcurrency`), so nothing else in the account can take it:
 * the scheduled jobs run one at a time but may overlap a slow run; the workers take the queue's concurrency; ECS
 * task events come in bursts while apps deploy (a throttled one is retried).
 */
const RESERVED_CONCURRENCY = {
  dispatch: 2,
  reconcile: RECONCILE_WORKERS,
  scale: 2,
  meter: 2,
  report: 2,
  ecsEvents: 10,
} as const;

/** What a function may read of the running apps (see `Jobs.grantRuntimeRead`). */
export type RuntimeRead = 'tasks' | 'metrics' | 'targetHealth' | 'logs';

export interface JobsProps {
  config: InstallConfig;
  vpc: IVpc;
  cluster: ICluster;
  table: ITableV2;
  loadBalancers: { loadBalancer: IApplicationLoadBalancer; https: IApplicationListener }[];
  loadBalancerSecurityGroup: SecurityGroup;
  /** Makes a Lambda of `functions/handlers/<entry>.ts`'s export `handler`, bundled like the API. */
  lambda: (id: string, entry: string, props?: Partial<FunctionProps>) => LambdaFunction;
  environment: Record<string, string>;
}

/**
 * The automations of DESIGN.md on AWS: EventBridge Scheduler runs the dispatcher (one SQS message per tenant and
 * runtime → the reconcile workers, bounded concurrency, DLQ), the autoscaler, the meter and the report job; an
 * EventBridge rule sends ECS task state changes to the meter. Tenants' tasks run in private subnets with roles that
 * grant nothing.
 */
export class Jobs extends Construct {
  readonly functions: Record<
    'dispatch' | 'reconcile' | 'scale' | 'meter' | 'report' | 'ecsEvents',
    LambdaFunction
  >;
  readonly taskRole: Role;
  readonly executionRole: Role;
  readonly queue: Queue;
  readonly deadLetters: Queue;
  /** Schedule runs and ECS task events that could not be delivered, or failed after Lambda's retries. */
  readonly undelivered: Queue;
  /** Where tenants' tasks run and how traffic reaches them: what any Lambda that looks at replicas needs. */
  readonly runtimeEnvironment: Record<string, string>;
  private readonly cluster: ICluster;
  /** The Fargate apps' log group: each task's stream is named after its app (awslogs' prefix, its family). */
  readonly appLogs: LogGroup;
  /** The apps' Route 53 zone, where the reconcile workers write each app's alias record. */
  private readonly hostedZone: string | undefined;
  private readonly appDomain: string;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const { config, vpc, cluster } = props;
    const stack = Stack.of(this);
    const appLogs = new LogGroup(this, 'AppLogs', {
      retention: config.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: "Tenants' tasks: no AWS permissions unless the operator adds some",
    });
    this.executionRole = new Role(this, 'TaskExecutionRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: "Pulls tenants' images from the install's repositories and writes their logs",
    });
    this.executionRole.addToPolicy(
      new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    this.executionRole.addToPolicy(
      new PolicyStatement({
        actions: ECR_PULL_ACTIONS,
        resources: [installRepositoriesArn(stack.region, stack.account, installationOf(props.config))],
      }),
    );
    appLogs.grantWrite(this.executionRole);

    const appsSecurityGroup = new SecurityGroup(this, 'AppsSecurityGroup', {
      vpc,
      description: 'Tenant tasks - reachable from the shared load balancer only',
      allowAllOutbound: true,
    });
    appsSecurityGroup.addIngressRule(
      props.loadBalancerSecurityGroup,
      Port.allTcp(),
      'from the shared load balancer',
    );

    this.deadLetters = new Queue(this, 'ReconcileDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'ReconcileQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's rule for a queue that feeds a Lambda: six times the function's timeout, so a batch whose invocation
      // was throttled and retried is not delivered again while the first attempt still runs.
      visibilityTimeout: Duration.minutes(JOB_TIMEOUT.toMinutes() * 6),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: 3 },
    });

    this.cluster = cluster;
    this.appLogs = appLogs;
    this.hostedZone = config.hostedZone?.id;
    this.appDomain = config.domain;
    this.runtimeEnvironment = {
      BERTH_CLUSTER: cluster.clusterName,
      BERTH_VPC_ID: vpc.vpcId,
      BERTH_APP_SUBNETS: vpc
        .selectSubnets({ subnetType: SubnetType.PRIVATE_WITH_EGRESS })
        .subnetIds.join(','),
      BERTH_APP_SECURITY_GROUPS: appsSecurityGroup.securityGroupId,
      BERTH_TASK_EXECUTION_ROLE_ARN: this.executionRole.roleArn,
      BERTH_TASK_ROLE_ARN: this.taskRole.roleArn,
      BERTH_APP_LOG_GROUP: appLogs.logGroupName,
      // The listeners by their ids alone (their ARNs after `listener/app/`), the Lambdas putting the region and
      // account back, and the load balancers' DNS names read when an alias is written: a Lambda's environment holds
      // 4 KB in all, which 20 whole listener ARNs, DNS names and zones (some 220 bytes each) would pass.
      BERTH_LISTENERS: props.loadBalancers
        .map((lb) => Fn.select(1, Fn.split(':listener/app/', lb.https.listenerArn, 2)))
        .join(','),
      ...(config.hostedZone ? { BERTH_HOSTED_ZONE_ID: config.hostedZone.id } : {}),
      BERTH_RECONCILE_QUEUE_URL: this.queue.queueUrl,
    };
    const environment = { ...props.environment, ...this.runtimeEnvironment };
    const job = (name: string, entry: string, reserved: number, extra: Partial<FunctionProps> = {}) =>
      props.lambda(name, entry, {
        environment,
        timeout: JOB_TIMEOUT,
        ...(config.reserveJobConcurrency ? { reservedConcurrentExecutions: reserved } : {}),
        ...extra,
      });
    this.functions = {
      dispatch: job('DispatchFunction', 'dispatch', RESERVED_CONCURRENCY.dispatch),
      reconcile: job('ReconcileFunction', 'reconcile', RESERVED_CONCURRENCY.reconcile),
      scale: job('ScaleFunction', 'scale', RESERVED_CONCURRENCY.scale),
      meter: job('MeterFunction', 'meter', RESERVED_CONCURRENCY.meter),
      report: job('ReportFunction', 'report', RESERVED_CONCURRENCY.report),
      ecsEvents: job('EcsEventsFunction', 'ecs-events', RESERVED_CONCURRENCY.ecsEvents, {
        timeout: Duration.seconds(30),
      }),
    };
    this.functions.reconcile.addEventSource(
      new SqsEventSource(this.queue, {
        // One message an invocation: a worker's passes run one after another, so in a batch one tenant's long pass
        // (hundreds of apps, ECS throttling) would hold up the others, and a batch past the timeout would have every
        // message in it, done or not, delivered again 30 minutes later, counted towards the dead-letter queue.
        batchSize: 1,
        maxConcurrency: RECONCILE_WORKERS,
        reportBatchItemFailures: true,
      }),
    );
    // The dispatcher's batches; the reconcile worker's rollbacks and the autoscaler's writes nudge the queue.
    for (const fn of [this.functions.dispatch, this.functions.reconcile, this.functions.scale])
      this.queue.grantSendMessages(fn);

    for (const fn of Object.values(this.functions)) props.table.grantReadWriteData(fn);
    this.grantRuntimeWrite(this.functions.reconcile);
    // The autoscaler reads tasks and their utilisation, the meter only tasks; the API reads all (PlatformStack).
    this.grantRuntimeRead(this.functions.scale, 'tasks', 'metrics');
    this.grantRuntimeRead(this.functions.meter, 'tasks');

    this.undelivered = new Queue(this, 'UndeliveredInvocations', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const schedules: [string, LambdaFunction, Duration][] = [
      ['Reconcile', this.functions.dispatch, Duration.minutes(config.schedules.reconcileMinutes)],
      ['Scale', this.functions.scale, Duration.minutes(config.schedules.scaleMinutes)],
      ['Meter', this.functions.meter, Duration.minutes(config.schedules.meterMinutes)],
      ['Report', this.functions.report, Duration.hours(config.schedules.reportHours)],
    ];
    // A run is worth retrying until the next one is due; what cannot be delivered or fails after Lambda's own retries
    // is kept in `undelivered` for the operator.
    for (const [name, fn, period] of schedules) {
      const maxEventAge = Duration.seconds(Math.min(period.toSeconds(), MAX_EVENT_AGE.toSeconds()));
      new Schedule(this, `${name}Schedule`, {
        schedule: ScheduleExpression.rate(period),
        target: new LambdaInvoke(fn, { retryAttempts: 3, maxEventAge, deadLetterQueue: this.undelivered }),
      });
      fn.configureAsyncInvoke({ maxEventAge, onFailure: new SqsDestination(this.undelivered) });
    }

    new Rule(this, 'TaskStateChanges', {
      description: "ECS task state changes of Berth's cluster → the meter and the apps' events",
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: { clusterArn: [cluster.clusterArn], group: [{ prefix: 'service:berth_' }] },
      },
      targets: [
        new LambdaTarget(this.functions.ecsEvents, {
          retryAttempts: 8,
          maxEventAge: ECS_EVENT_MAX_AGE,
          deadLetterQueue: this.undelivered,
        }),
      ],
    });
    this.functions.ecsEvents.configureAsyncInvoke({
      maxEventAge: ECS_EVENT_MAX_AGE,
      onFailure: new SqsDestination(this.undelivered),
    });
  }

  /**
   * What `fn` reads of the running apps, each read only where asked: the cluster's tasks, their utilisation from
   * Container Insights, their target health on the ALBs, the apps' logs.
   */
  grantRuntimeRead(fn: LambdaFunction, ...reads: RuntimeRead[]) {
    if (reads.includes('tasks'))
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['ecs:DescribeTasks', 'ecs:ListTasks'],
          resources: ['*'],
          conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
        }),
      );
    if (reads.includes('metrics'))
      fn.addToRolePolicy(new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    if (reads.includes('targetHealth'))
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'],
          resources: ['*'],
        }),
      );
    if (reads.includes('logs')) this.appLogs.grant(fn, 'logs:GetLogEvents');
  }

  /**
   * What the reconcile workers do to run tenants' apps: ECS services named `berth_*` in the cluster, their task
   * definitions (passing only the two task roles), their target groups and host rules on the ALB.
   */
  private grantRuntimeWrite(fn: LambdaFunction) {
    const stack = Stack.of(this);
    const services = stack.formatArn({
      service: 'ecs',
      resource: 'service',
      resourceName: `${this.cluster.clusterName}/berth_*`,
    });
    this.grantRuntimeRead(fn, 'tasks', 'targetHealth');
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices'],
        resources: [services],
      }),
    );
    // The sweep lists the cluster's services for those whose app is gone.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:ListServices'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [
          services,
          stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: 'berth-*:*' }),
        ],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ecs:RegisterTaskDefinition',
          'ecs:ListTaskDefinitions',
          'ecs:DescribeTaskDefinition',
          'ecs:DeregisterTaskDefinition',
          'ecs:DeleteTaskDefinitions',
        ],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.taskRole.roleArn, this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    const zone = this.hostedZone;
    if (zone) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [`arn:aws:route53:::hostedzone/${zone}`],
          // Only A (alias) records, only for names under the apps' domain.
          conditions: {
            'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${this.appDomain}`],
            },
          },
        }),
      );
      // An alias names its load balancer's DNS name and canonical zone, read from ALB: the shared load balancers'
      // (the Lambdas' environment names only their listeners) and, on EKS, the one the controller made.
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['elasticloadbalancing:DescribeLoadBalancers'], resources: ['*'] }),
      );
    }
    // ECS creates its service-linked role on the first service with a load balancer, if the account lacks it.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:CreateServiceLinkedRole'],
        resources: ['*'],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'ecs.amazonaws.com' } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'elasticloadbalancing:CreateTargetGroup',
          'elasticloadbalancing:ModifyTargetGroup',
          'elasticloadbalancing:ModifyTargetGroupAttributes',
          'elasticloadbalancing:DeleteTargetGroup',
          'elasticloadbalancing:CreateRule',
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:DeleteRule',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:AddTags',
        ],
        resources: ['*'],
      }),
    );
  }
}
