import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../functions/handlers/lambda.ts';

export interface PlatformAlarmsProps {
  /**
   * Berth's Lambdas, by name: an error in any of them alarms (a crash, a timeout, or a job's run that failed for a
   * tenant; not an HTTP 500).
   */
  functions: Record<string, IFunction>;
  api: HttpApi;
  /** Queues that only fill when something failed for good. */
  deadLetterQueues: Record<string, IQueue>;
  /** The reconcile work queue: one that never drains means the workers fall behind. */
  workQueue: IQueue;
  /** Who is told: each address gets an SNS email subscription to confirm. */
  emails: string[];
  /** The install's name, a dimension of every figure its handlers publish (another install's are not its own). */
  installation: string;
  /** The ACM certificates the install serves with, by construct id: each one's ARN, and what it serves. */
  certificates: Record<string, { arn: string; serves: string }>;
  /** The Fargate apps' log group, and the GiB an hour they may log in it before it alarms. */
  appLogs: { logGroupName: string; gibPerHour: number };
}

const PERIOD = Duration.minutes(5);
/**
 * Days before a certificate expires that its alarm leaves to act: ACM starts renewing its own certificates 60 days
 * ahead, so one this close either failed to renew (its DNS validation record gone) or was imported.
 */
const CERTIFICATE_DAYS_LEFT = 30;
/** The API's own 5xx answers within one period that mean more than a passing blip. */
const API_SERVER_ERRORS = 5;
/**
 * Periods in a row the reconcile queue never drained before the workers count as behind. (Not the oldest message's
 * age: a message that failed waits out its visibility timeout in the queue, and the dead-letter alarm covers it.)
 */
const BACKLOG_PERIODS = 3;
/** Periods in a row with apps the scale job could not look at before it alarms (a passing throttle is no news). */
const SCALE_FAILURE_PERIODS = 3;
/** Periods in a row with apps whose replicas cannot start before it alarms (capacity back in minutes is no news). */
const NOT_STARTING_PERIODS = 3;

/** A figure a Berth handler of `installation` publishes itself (functions/handlers/lambda.ts). */
const berthMetric = (installation: string, service: string, metricName: string, statistic: string) =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service, installation },
    period: PERIOD,
    statistic,
  });

/** What an operator of an install must hear about, on one encrypted SNS topic. */
export class PlatformAlarms extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', {
      description: "Encrypts Berth's alarm notifications",
      enableKeyRotation: true,
      // Nothing it encrypts outlives the topic: a key kept after the stack (CDK's default) costs 1 USD a month for
      // good. KMS deletes it after its 30-day waiting period.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch can publish to an encrypted topic only when the key lets it.
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { displayName: 'Berth alarms', masterKey: key, enforceSSL: true });
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));
    if (props.emails.length === 0) {
      // Said at every synth and deploy: without a subscriber, no alarm below reaches anyone.
      Annotations.of(this).addWarningV2(
        'berth:alarms-unheard',
        'No alarmEmails: the alarms (a Lambda that failed, metering or reports among them, dead letters, apps whose ' +
          'tasks cannot start, a certificate about to expire) reach no one until something subscribes to the ' +
          'AlarmTopicArn output. Give alarmEmails, or subscribe a chat or paging endpoint to the topic.',
      );
    }

    const action = new SnsAction(this.topic);
    const alarm = (
      name: string,
      metric: Metric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
      comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) =>
      metric
        .createAlarm(this, name, {
          threshold,
          evaluationPeriods,
          comparisonOperator,
          treatMissingData: TreatMissingData.NOT_BREACHING,
          alarmDescription: description,
        })
        .addAlarmAction(action);

    for (const [name, { arn, serves }] of Object.entries(props.certificates)) {
      alarm(
        `${name}CertificateExpiring`,
        // ACM publishes it once a day.
        new Metric({
          namespace: 'AWS/CertificateManager',
          metricName: 'DaysToExpiry',
          dimensionsMap: { CertificateArn: arn },
          statistic: 'Minimum',
          period: Duration.days(1),
        }),
        CERTIFICATE_DAYS_LEFT,
        `The certificate of ${serves} (${arn}) expires within ${CERTIFICATE_DAYS_LEFT} days, and with it every HTTPS ` +
          'connection there: ACM renews a certificate it issued while its DNS validation record is in place (put it ' +
          'back), never one you imported (import its successor, or move to an ACM-issued one).',
        1,
        ComparisonOperator.LESS_THAN_THRESHOLD,
      );
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        1,
        `The ${name} Lambda failed (it crashed, timed out, or could not do one of the tenants it went over); see its log group.`,
      );
    }
    alarm(
      'ApiServerErrors',
      props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      API_SERVER_ERRORS,
      "The API answered 5xx repeatedly: a dependency unavailable or a bug (the API Lambda's log group), or answers API Gateway made itself, the Lambda throttled, timed out or crashed (the API's access log says why).",
    );
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${name}NotEmpty`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        1,
        `Something failed for good and waits in ${name}: read the messages, fix the cause, then purge or redrive.`,
      );
    }
    alarm(
      'ReconcileBacklog',
      props.workQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Minimum' }),
      1,
      'The reconcile queue has not drained for 15 minutes: the workers fall behind (throttled by ECS or at their concurrency limit).',
      BACKLOG_PERIODS,
    );
    alarm(
      'AppsNotScaled',
      berthMetric(props.installation, 'scale', 'appsNotScaled', 'Sum'),
      1,
      "The scale job could not look at some apps for 15 minutes (their replicas or metrics did not answer): see the scale Lambda's log group.",
      SCALE_FAILURE_PERIODS,
    );
    alarm(
      'AppsNotStarting',
      berthMetric(props.installation, 'reconcile', 'appsNotStarting', 'Sum'),
      1,
      "Some apps' replicas could not be started for 15 minutes: ECS could not place their tasks (the account's Fargate vCPU quota reached, no capacity in the zones, no address left in the subnets), or Kubernetes their pods (no node or Fargate profile fits them). The reconcile Lambda's log names each app and why ('the runtime cannot start an app').",
      NOT_STARTING_PERIODS,
    );
    alarm(
      'OrphanedWorkloadsRemoved',
      berthMetric(props.installation, 'reconcile', 'orphanedWorkloadsRemoved', 'Sum'),
      1,
      "A sweep stopped an ECS service or Deployment whose app was gone (a pass that lost its lease, or a table missing apps it once had): the reconcile Lambda's log names each.",
    );
    alarm(
      'SweepRefused',
      berthMetric(props.installation, 'reconcile', 'sweepsRefused', 'Sum'),
      1,
      "A sweep found most of what a runtime holds without its tenant or app, and removed nothing: check that the Lambdas use the install's own table (the reconcile Lambda's log says how much).",
    );
    const { logGroupName, gibPerHour } = props.appLogs;
    alarm(
      'AppLogsFlood',
      new Metric({
        namespace: 'AWS/Logs',
        metricName: 'IncomingBytes',
        dimensionsMap: { LogGroupName: logGroupName },
        statistic: 'Sum',
        period: Duration.hours(1),
      }),
      gibPerHour * 2 ** 30,
      `The Fargate apps logged more than ${gibPerHour} GiB in an hour (${logGroupName}): CloudWatch Logs bills each GB ` +
        "it ingests, which the tenants' reports do not carry. Find the app in Logs Insights on the group: stats " +
        "sum(strlen(@message)) as chars by @logStream | sort chars desc (each task's stream is named after its app). " +
        'A platform this busy by design raises appLogsAlarmGiBPerHour.',
    );
    alarm(
      'ReportsLeft',
      berthMetric(props.installation, 'report', 'reportsLeft', 'Maximum'),
      1,
      'The report job ran out of time before every report was built; the rest wait for its next run. Run it more often (schedules.reportHours) if this repeats.',
    );
  }
}
