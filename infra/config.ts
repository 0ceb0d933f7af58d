import * as z from 'zod';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from '../functions/adapters/alb/target-group-settings.ts';
import { MAX_HOST } from '../functions/core/app-hosts.ts';
import {
  AdminKeyHash,
  AdminKeyHashes,
  DEFAULT_RATE_LIMIT,
  IdleTimeoutSeconds,
  parseConfig,
} from '../functions/shared/config-parsing.ts';
import { DEFAULT_PRICE_TABLE, PriceTable } from '../schemas/billing.ts';
import { OfferedSizes } from '../schemas/fargate-sizes.ts';

const DnsName = z
  .string()
  .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a DNS name in lowercase, such as apps.example.com');
const CertificateArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, 'must be an ACM certificate ARN');
/** Whether the DNS name `name` is `zone` or lies below it. */
export const inZone = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);
/** The region an ARN names. */
const regionOf = (arn: string) => arn.split(':')[3];

/** The install's configuration, from CDK context `berth` (cdk.json or `-c berth='{…}'`), validated before synthesis. */
export const InstallConfig = z
  .strictObject({
    /**
     * Prefix of stack names, so several installs can share an account; lowercased, it also scopes what the install
     * makes in the account's shared spaces (installationOf).
     */
    name: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{0,30}$/,
        'must be a letter, then up to 30 letters, digits and hyphens (a stack name prefix)',
      )
      .default('Berth'),
    /**
     * Where the install lives; named so synthesis is offline and deterministic. A region of the `aws` partition: the
     * stacks and the Lambdas name ARNs `arn:aws:…` and endpoints `….amazonaws.com`, which China's and GovCloud's
     * regions name otherwise.
     */
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: 'must be an AWS region such as "eu-west-1"' })
      .refine((region) => !region.startsWith('cn-') && !region.includes('-gov-'), {
        message: "must be a region of the aws partition: Berth does not support China's or GovCloud's",
      }),
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be an AWS account id: 12 digits')
      .optional(),
    /** Apps answer at https://<app>--<tenant>.<domain>; the certificate covers `*.<domain>`. */
    domain: DnsName.max(
      100,
      `may have at most 100 characters: an app answers at <app>--<tenant>.<domain>, which a load balancer takes to ${MAX_HOST}`,
    ),
    certificateArn: CertificateArn,
    /**
     * The API's own name (`api.example.com`) and its ACM certificate: a URL that outlives the platform stack. Without
     * it the API answers at the address API Gateway generates (the `ApiUrl` output).
     */
    api: z.strictObject({ domain: DnsName, certificateArn: CertificateArn }).optional(),
    /**
     * API Lambda instances kept initialised (provisioned concurrency on its `live` alias): up to that many requests
     * at once never wait for a cold start, and their INIT also warms up what a first request loads (functions/
     * handlers/api.ts). Each is billed while provisioned; 0 runs on demand only.
     */
    apiProvisionedConcurrency: z.number().int().min(0).max(1000).default(0),
    /**
     * Reserve Lambda concurrency for the jobs (about 40 in all), so a flood of API requests, or anything else in the
     * account, never leaves metering, reconciling and scaling without Lambdas. Lambda keeps 100 of an account's
     * concurrency unreserved: an account whose quota is below about 140 (new accounts may start at 10) must ask for
     * more, or set this to false.
     */
    reserveJobConcurrency: z.boolean().default(true),
    /**
     * SHA-256 hex of the bootstrap admin key (`printf %s "$KEY" | sha256sum`); the key itself never leaves you. Two,
     * during a rotation: the new key's and the old one's, each an admin key, until a deploy with the new one's alone.
     */
    adminKeyHash: AdminKeyHash.or(AdminKeyHashes).transform((hashes) => [hashes].flat()),
    prices: PriceTable.default(DEFAULT_PRICE_TABLE),
    /**
     * Shared load balancers for apps on Fargate, filled in order, at most 90 apps each (an ALB takes 100 target
     * groups and 100 rules). More than one needs `hostedZone`: each app then gets its own alias record.
     */
    loadBalancers: z.number().int().min(1).max(20).default(1),
    /**
     * How long an app's connection may carry nothing before its load balancer closes it (ALB's idle timeout, EKS's
     * too): a request an app takes longer to begin answering gets 504, a WebSocket without pings is closed. Raise it
     * for apps that stream with long pauses.
     */
    appIdleTimeoutSeconds: IdleTimeoutSeconds.default(DEFAULT_IDLE_TIMEOUT_SECONDS),
    /** The Route 53 public zone of `domain`, where each app's alias record is written. */
    hostedZone: z
      .strictObject({
        id: z
          .string()
          .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'),
        name: z.string().min(3),
      })
      .optional(),
    runtimes: z
      .array(z.enum(['fargate', 'eks']))
      .min(1)
      .default(['fargate']),
    /**
     * Apps with `runtime: "eks"`: on a cluster the install creates (EKS on Fargate, AWS Load Balancer Controller,
     * metrics-server), or on an existing cluster by name (authentication mode API; the operator runs the load
     * balancer controller and metrics-server there). Required exactly when `runtimes` offers eks.
     */
    eks: z
      .strictObject({
        existingCluster: z
          .strictObject({
            name: z
              .string()
              .regex(
                /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/,
                'must be an EKS cluster name: a letter or digit, then up to 99 letters, digits, "-" and "_"',
              ),
            /** Where the cluster's load balancers reach pods from (their subnets): all a tenant's pods admit. */
            loadBalancerCidrs: z.array(z.cidrv4()).min(1).max(16),
            /** Its pods run on EKS Fargate, so they are billed by the Fargate size AWS provisions. */
            fargate: z.boolean(),
          })
          .optional(),
        /**
         * The cluster's Kubernetes version: the one the install creates it on, or an existing cluster's, which picks the
         * kubectl that manages it. By default 1.35, within EKS's standard support until 27 March 2027; past that, EKS
         * bills extended support, six times the control plane's price per hour (1.33's ended on 29 July 2026, 1.34's on
         * 2 December 2026). 1.36 is offered so that a cluster can leave 1.35 before then; the default moves to it once
         * installs made on the earlier default (1.34) have had a release to pass 1.35 on the way, as EKS moves a
         * cluster one minor version at a time, in place.
         */
        kubernetesVersion: z.enum(['1.33', '1.34', '1.35', '1.36']).default('1.35'),
        /**
         * The load balancer controller's ingress group the apps share (one ALB): the install's own when unset,
         * `berth-apps` for the default install and `berth-<installation>-apps` for another (clusterScope).
         */
        ingressGroup: z
          .string()
          .regex(
            /^[a-z0-9][a-z0-9.-]{0,62}$/,
            'must be an ingress group name: lowercase letters, digits, "." and "-"',
          )
          .optional(),
      })
      .optional(),
    rateLimit: z
      .strictObject({ perSecond: z.number().positive(), burst: z.number().int().positive() })
      .default(DEFAULT_RATE_LIMIT),
    /** Availability zones of the VPC, named so synthesis never looks anything up. */
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an availability zone such as us-east-1a'))
      .min(2)
      .max(3),
    natGateways: z.number().int().min(1).max(3).default(1),
    /** How often the jobs run (EventBridge Scheduler rates). */
    schedules: z
      .strictObject({
        reconcileMinutes: z.number().int().min(1).max(60).default(1),
        scaleMinutes: z.number().int().min(1).max(60).default(1),
        meterMinutes: z.number().int().min(1).max(60).default(1),
        reportHours: z.number().int().min(1).max(24).default(24),
      })
      .default({ reconcileMinutes: 1, scaleMinutes: 1, meterMinutes: 1, reportHours: 24 }),
    /** The app sizes tenants may choose (vCPUs, most memory); every Fargate size when unset. */
    sizes: OfferedSizes.optional(),
    /** Addresses told of alarms (each confirms an SNS email subscription); the topic is in the stack's outputs. */
    alarmEmails: z.array(z.email()).max(10).default([]),
    /**
     * GiB the Fargate apps may log in an hour, all together, before an alarm says so: CloudWatch Logs bills each GB
     * it ingests (0.50 USD in us-east-1), which the tenants' reports do not carry.
     */
    appLogsAlarmGiBPerHour: z.number().positive().max(100_000).default(5),
    logRetentionDays: z
      .union([z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(365)])
      .default(30),
  })
  .refine((c) => c.availabilityZones.every((az) => az.startsWith(c.region)), {
    message: 'availabilityZones must lie in region',
    path: ['availabilityZones'],
  })
  .refine((c) => regionOf(c.certificateArn) === c.region, {
    message: 'the certificate must be in region (load balancers take certificates of their own region)',
    path: ['certificateArn'],
  })
  .refine((c) => !c.api || regionOf(c.api.certificateArn) === c.region, {
    message: 'the certificate must be in region (a regional API takes certificates of its own region)',
    path: ['api', 'certificateArn'],
  })
  .refine((c) => !c.api || !inZone(c.api.domain, c.domain), {
    message: 'the API may not be named under domain, where its name could be an app’s',
    path: ['api', 'domain'],
  })
  .refine((c) => c.loadBalancers === 1 || c.hostedZone, {
    message: 'more than one load balancer needs hostedZone (apps are found by their own DNS records)',
    path: ['hostedZone'],
  })
  .refine((c) => !c.hostedZone || inZone(c.domain, c.hostedZone.name), {
    message: 'the hosted zone must hold domain',
    path: ['hostedZone', 'name'],
  })
  .refine((c) => c.runtimes.includes('eks') === Boolean(c.eks), {
    message: 'eks is configured exactly when runtimes offers eks',
    path: ['eks'],
  })
  .refine((c) => !c.runtimes.includes('eks') || c.hostedZone, {
    message:
      "offering eks needs hostedZone (apps on EKS answer on the cluster's own load balancer, by their own DNS records)",
    path: ['hostedZone'],
  })
  .refine((c) => c.availabilityZones.length >= c.natGateways, {
    message: 'natGateways may not exceed the number of availabilityZones',
    path: ['natGateways'],
  })
  .superRefine((c, ctx) => {
    // Checked here, as synthesis without an account cannot: CloudFormation would refuse the bucket mid-deploy.
    const over = reportBucketNameOf(c, ACCOUNT_DIGITS, c.region).length - S3_BUCKET_NAME_LIMIT;
    if (over > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `may have at most ${c.name.length - over} characters in ${c.region}: the reports bucket, named <name>-reports-<account>-<region>, would have ${S3_BUCKET_NAME_LIMIT + over}, and S3 takes ${S3_BUCKET_NAME_LIMIT}`,
      });
  });
export type InstallConfig = z.infer<typeof InstallConfig>;

/**
 * The install's name as its Lambdas scope what they make in the account's shared spaces (ECR repositories, target
 * groups, metrics): `berth` for the default install, so two installs in one account and region stay apart.
 */
export const installationOf = (config: Pick<InstallConfig, 'name'>) => config.name.toLowerCase();

/** The report bucket's name, S3's names being global: the install's, its account's and its region's. */
export const reportBucketNameOf = (config: Pick<InstallConfig, 'name'>, account: string, region: string) =>
  `${installationOf(config)}-reports-${account}-${region}`;

const S3_BUCKET_NAME_LIMIT = 63;
/** What an account id takes in a name, an unresolved account's too. */
const ACCOUNT_DIGITS = '0'.repeat(12);

/** Reads and validates the `berth` context value, naming every field that is wrong. */
export function readInstallConfig(context: unknown): InstallConfig {
  const value = typeof context === 'string' ? JSON.parse(context) : context;
  return parseConfig(InstallConfig, value, 'CDK context "berth"', 'berth.');
}
