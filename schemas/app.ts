import * as z from 'zod';
import { DnsLabel, onceValid, Timestamp } from './common.ts';
import { FARGATE_CPUS, fargateSizeProblem } from './fargate-sizes.ts';
import { ImageReference } from './image-reference.ts';

const RESERVED_ENV_PREFIXES = ['BERTH_', 'AWS_', 'ECS_'] as const;
const MAX_ENV_VARS = 100;
const MAX_ENV_BYTES = 32 * 1024;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENV_NAME = 256;

export const EnvName = z
  .string()
  .regex(ENV_NAME, {
    message: 'env names match ^[A-Za-z_][A-Za-z0-9_]*$ (e.g. "LOG_LEVEL")',
  })
  .max(MAX_ENV_NAME)
  .refine((name) => !RESERVED_ENV_PREFIXES.some((p) => name.toUpperCase().startsWith(p)), {
    message: `env names may not start with ${RESERVED_ENV_PREFIXES.join(', ')}: those are set by the platform`,
  });

const NoNul = (what: string) =>
  z.string().refine((s) => !s.includes('\0'), { message: `${what} may not contain NUL` });

export const Env = z
  .record(EnvName, NoNul('env values').max(MAX_ENV_BYTES))
  .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, { message: `at most ${MAX_ENV_VARS} env vars` })
  .refine(
    (env) =>
      Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0) <=
      MAX_ENV_BYTES,
    { message: `env names and values may total at most ${MAX_ENV_BYTES} bytes` },
  )
  .meta({
    id: 'Env',
    description:
      `Environment variables: at most ${MAX_ENV_VARS}, names and values together at most ${MAX_ENV_BYTES / 1024} KiB, ` +
      `no value holding NUL. Names may not start with ${RESERVED_ENV_PREFIXES.join(', ')} (in any case): the ` +
      "platform sets those. PORT, if given, must be the app's port (replicas get it anyway). `__proto__` is no " +
      'name: JSON carries it, but the server cannot keep it (400).',
    // What the record's key schema checks (and the API's validation, `__proto__`), which the generator leaves out.
    propertyNames: { pattern: ENV_NAME.source, maxLength: MAX_ENV_NAME, not: { const: '__proto__' } },
    maxProperties: MAX_ENV_VARS,
    example: { LOG_LEVEL: 'info' },
  });
export type Env = z.infer<typeof Env>;

export const Command = z
  .array(NoNul('command arguments').max(4096))
  .min(1)
  .max(64)
  .refine((command) => command[0] !== '', { message: 'must name a program first', path: [0] })
  .meta({
    description: 'Entrypoint arguments, passed as an array and never through a shell.',
    example: ['httpd', '-f'],
  });

export const HttpPath = z
  .string()
  .max(1024)
  .regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/, {
    message: 'must be an absolute URL path such as "/healthz"',
  })
  .refine((p) => !p.split(/[/?]/).includes('..'), { message: 'may not contain ".." segments' });

export const HealthCheck = z
  .strictObject({
    path: HttpPath.optional().describe('HTTP GET path; without it the check is a TCP connect to the port.'),
    intervalSeconds: z.number().int().min(1).max(300).default(10).describe('Seconds between checks.'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(2)
      .describe('Seconds a check may take (at most intervalSeconds).'),
    healthyThreshold: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe('Passing checks in a row before a replica takes traffic.'),
    unhealthyThreshold: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe(
        'Failing checks in a row, an interval apart, after which a replica is unhealthy and replaced.',
      ),
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(10)
      .describe('Seconds after a replica starts during which failing checks do not count.'),
  })
  .refine((h) => h.timeoutSeconds <= h.intervalSeconds, {
    message: 'timeoutSeconds may not exceed intervalSeconds',
    path: ['timeoutSeconds'],
    when: onceValid('timeoutSeconds', 'intervalSeconds'),
  })
  .meta({
    id: 'HealthCheck',
    description:
      'How a replica is checked before it takes traffic, and while it serves: a GET of `path` passes with an ' +
      'answer below 400. On `fargate` and `eks` the load balancer checks too, within its own bounds: a smaller ' +
      'interval counts as 5 s, a timeout as 2 s (and below the interval), a threshold as 2; without a `path`, it ' +
      'asks for `/` and takes any answer below 500.',
  });
export type HealthCheck = z.infer<typeof HealthCheck>;

/** One cron field of `value`s: lists of `*`, values and ranges, each with an optional step. */
const cronField = (value: string) => {
  const part = `(\\*|${value}(-${value})?)(/\\d{1,2})?`;
  return new RegExp(`^${part}(,${part})*$`, 'i');
};
const NUMBER = '\\d{1,2}';
/** Minute, hour, day of month, month, day of week; as in crontab(5), months and days may go by their names too. */
const CRON_FIELDS = [
  cronField(NUMBER),
  cronField(NUMBER),
  cronField(NUMBER),
  cronField(`(${NUMBER}|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`),
  cronField(`(${NUMBER}|sun|mon|tue|wed|thu|fri|sat)`),
];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `cron` is not a schedule Berth can keep, if it is not: five fields of numbers (months and days of the week
 * also by their English three-letter names), ranges, steps and lists, whose values the parser the autoscaler reads
 * schedules with takes (minutes 0-59, no 31 February). The parser is loaded on the first schedule to check, so a
 * request without one never pays for it.
 */
async function cronProblem(cron: string): Promise<string | undefined> {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== CRON_FIELDS.length || !fields.every((f, i) => CRON_FIELDS[i]?.test(f))) {
    return 'must be a 5-field cron expression of numbers, ranges, steps and lists (months and days also by name), such as "0 8 * * 1-5" or "0 8 * * MON-FRI"';
  }
  const { CronExpressionParser } = await import('cron-parser');
  try {
    CronExpressionParser.parse(cron);
    return undefined;
  } catch (err) {
    return `is not a schedule that can fire: ${(err as Error).message}`;
  }
}

/** A number of replicas: what an app runs, and the bounds scaling keeps it within. */
const ReplicaCount = z.number().int().min(0).max(1000);

export const ScalingSchedule = z
  .strictObject({
    cron: z
      .string()
      .max(100)
      .superRefine(async (cron, ctx) => {
        const problem = await cronProblem(cron);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('When it fires: five cron fields, months and days also by name, e.g. "0 8 * * MON-FRI".'),
    timezone: z
      .string()
      .max(64)
      .refine(
        isTimeZone,
        'must be an IANA time zone such as "Europe/Berlin", or a UTC offset such as "+02:00"',
      )
      .optional()
      .describe('The time zone its cron is read in: an IANA name or a UTC offset (default UTC).'),
    min: ReplicaCount.describe('Fewest replicas from when it fires.'),
    max: ReplicaCount.describe(
      'Most replicas from when it fires; 0 (with min 0) scales the app to zero until a schedule with a min fires.',
    ),
  })
  .refine((s) => s.min <= s.max, {
    message: 'min may not exceed max',
    path: ['min'],
    when: onceValid('min', 'max'),
  })
  .meta({ id: 'ScalingSchedule' });

export const Scaling = z
  .strictObject({
    min: ReplicaCount.describe(
      'Fewest replicas; tracking never takes an app to 0: POST /scale does, or a schedule with max 0.',
    ),
    max: ReplicaCount.min(1).describe("Most replicas; at most the plan's instances per app."),
    targetCpuPercent: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Average CPU to track, in percent of each replica's cpu; a replica's first two minutes (warm-up) aside.",
      ),
    targetMemoryPercent: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Average memory to track, in percent of each replica's memory; a replica's warm-up aside."),
    schedules: z
      .array(ScalingSchedule)
      .max(20)
      .optional()
      .describe(
        'Bounds by time of day or week: each sets min and max from when it fires until another fires.',
      ),
    scaleInStabilizationSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe('Scale in only to the highest recommendation of this window (default 300 s); out at once.'),
  })
  .refine((s) => s.min <= s.max, {
    message: 'min may not exceed max',
    path: ['min'],
    when: onceValid('min', 'max'),
  })
  .meta({ id: 'Scaling' });
export type Scaling = z.infer<typeof Scaling>;

export const RuntimeName = z.enum(['docker', 'fargate', 'eks']);
export type RuntimeName = z.infer<typeof RuntimeName>;

export const Cpu = z
  .number()
  .refine((c) => FARGATE_CPUS.includes(c), {
    message: `must be one of ${FARGATE_CPUS.join(', ')} (vCPU)`,
  })
  .describe(`vCPU of each replica: ${FARGATE_CPUS.join(', ')} (those the installation offers).`);
export const Memory = z.number().int().min(1).describe('MiB; must form a Fargate size with cpu.');
export const Port = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .describe('The port the container listens on; requests reach it there, and its env PORT says so.');
export const Replicas = ReplicaCount.describe(
  'Replicas to run: on create 1 by default, moved within the bounds scaling puts in force (its min..max, or the ' +
    "schedule's that fired last); when named, within scaling.min..max.",
);

const Image = ImageReference.describe(
  "An OCI image reference: an image in one of your platform registry's repositories, or on a public registry.",
);

/** The fields a revision snapshots. */
const revisionFields = {
  image: Image,
  cpu: Cpu,
  memory: Memory,
  port: Port,
  command: Command.optional(),
  env: Env.optional(),
  healthCheck: HealthCheck.optional(),
  runtime: RuntimeName.optional().describe(
    "Where the replicas run; by default the installation's first runtime. Chosen at creation, never changed.",
  ),
};

/** The Fargate pair check of a schema with cpu and memory, once both are given and valid on their own. */
function withFargateSize<T extends { cpu?: number | undefined; memory?: number | undefined }>(
  value: T,
  ctx: z.core.$RefinementCtx<T>,
) {
  if (value.cpu === undefined || value.memory === undefined || !onceValid('cpu', 'memory')(ctx)) return;
  const problem = fargateSizeProblem(value.cpu, value.memory);
  if (problem) ctx.addIssue({ code: 'custom', path: ['memory'], message: problem });
}

export const AppCreate = z
  .strictObject({
    name: DnsLabel.describe("The app's name, unique within your tenant and part of its URL."),
    ...revisionFields,
    replicas: Replicas.optional(),
    scaling: Scaling.optional(),
  })
  .superRefine(withFargateSize)
  .meta({ id: 'AppCreate' });
export type AppCreate = z.infer<typeof AppCreate>;

/** What a change to a revision's spec may carry: each field optional, null clears an optional one. */
const specChanges = {
  image: Image.optional(),
  cpu: Cpu.optional(),
  memory: Memory.optional(),
  port: Port.optional(),
  command: Command.nullable().optional(),
  env: Env.nullable()
    .optional()
    .describe('The whole environment, replacing the current one; null clears it.'),
  healthCheck: HealthCheck.nullable().optional(),
};

export const AppPatch = z
  .strictObject({
    ...specChanges,
    runtime: RuntimeName.optional().describe(
      'Only the runtime the app already runs on: it is chosen at creation and never changes (create another app).',
    ),
    replicas: Replicas.optional(),
    scaling: Scaling.nullable().optional(),
  })
  .superRefine(withFargateSize)
  .meta({
    id: 'AppPatch',
    description:
      'Spec fields to change; null clears an optional field. `env`, `healthCheck` and `scaling` are each set ' +
      "whole, not merged: what one leaves out (a variable, the check's path, a target or schedule) is dropped or " +
      'back to its default, so send all of it to change a part; null clears it (the default TCP check; autoscaling off).',
  });
export type AppPatch = z.infer<typeof AppPatch>;

export const DeploymentCreate = z
  .strictObject(specChanges)
  .superRefine(withFargateSize)
  .meta({
    id: 'DeploymentCreate',
    description:
      'Spec fields for the new revision; omitted ones are kept. `env` and `healthCheck` are each set whole, as ' +
      'a PATCH sets them.',
  });
export type DeploymentCreate = z.infer<typeof DeploymentCreate>;

export const ScaleRequest = z.strictObject({ replicas: Replicas }).meta({ id: 'ScaleRequest' });
export const RollbackRequest = z
  .strictObject({
    revision: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({
        description:
          'The revision to go back to. Omitted (or no body): the newest revision that went live other than the one ' +
          'the app runs or is moving to, so two rollbacks in a row toggle between the last two.',
      }),
  })
  .meta({ id: 'RollbackRequest' });

/** What a revision pins: everything needed to start one replica. */
export const RevisionSpec = z.object({
  image: z.string(),
  cpu: z.number(),
  memory: z.number(),
  port: z.number(),
  command: z.array(z.string()).nullable(),
  env: z.record(z.string(), z.string()),
  healthCheck: HealthCheck.nullable(),
  runtime: RuntimeName,
});
export type RevisionSpec = z.infer<typeof RevisionSpec>;

export const AppStatus = z
  .enum(['deploying', 'running', 'degraded', 'failed', 'stopped', 'suspended', 'deleting'])
  .describe(
    '`deploying`: a deployment is under way, or the rollback the platform makes after one failed; `degraded`: ' +
      'fewer ready replicas than desired; `failed`: the last deployment failed and nothing runs; `suspended`: the ' +
      'tenant is suspended, so nothing runs until an admin reactivates it.',
  );
export type AppStatus = z.infer<typeof AppStatus>;

export const App = z
  .object({
    name: DnsLabel,
    url: z.string(),
    ...RevisionSpec.shape,
    replicas: z.number().int(),
    scaling: Scaling.nullable(),
    status: AppStatus,
    readyReplicas: z.number().int(),
    latestRevision: z.number().int().describe('The newest revision.'),
    targetRevision: z.number().int().describe('The revision the latest deployment moves the app to.'),
    currentRevision: z
      .number()
      .int()
      .nullable()
      .describe('The revision serving traffic; null until one succeeds.'),
    restartedAt: Timestamp.nullable().describe('When a restart was last asked for; null if never.'),
    generation: z.number().int(),
    observedGeneration: z.number().int(),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'App' });
export type App = z.infer<typeof App>;

export const Revision = z
  .object({
    app: DnsLabel,
    number: z.number().int(),
    ...RevisionSpec.shape,
    imageDigest: z
      .string()
      .nullable()
      .describe('The digest the image tag resolved to, where the registry allows.'),
    imagePlatforms: z
      .array(z.string())
      .nullable()
      .describe(
        'The platforms (`os/architecture`) the image is built for, as the platform registry says; null when not known (an image from another registry).',
      ),
    createdAt: Timestamp,
  })
  .meta({ id: 'Revision' });
export type Revision = z.infer<typeof Revision>;

export const DeploymentStatus = z
  .enum(['pending', 'in_progress', 'succeeded', 'failed', 'rolled_back', 'superseded'])
  .describe(
    '`succeeded`, `failed`, `rolled_back` and `superseded` are final. `rolled_back`: it failed, and the platform ' +
      'took the app back to the revision that served before it (its `reason` says why it failed and which ' +
      'deployment took the app back); `failed`: it failed with nothing to go back to (nothing of the app runs); ' +
      '`superseded`: a newer deployment of the app replaced it before it ended (its `reason` names which), which ' +
      'says nothing of its revision.',
  );
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;
export const TERMINAL_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'rolled_back',
  'superseded',
];

export const DeploymentTrigger = z.enum(['create', 'update', 'deploy', 'rollback', 'start']);
export type DeploymentTrigger = z.infer<typeof DeploymentTrigger>;

/** The API key that made a change: a deployment's `createdBy`, an event's `details.by`. */
export const Author = z.object({
  keyId: z.string().describe("The key's id, as `GET /v1/keys` lists it."),
  keyName: z
    .string()
    .nullable()
    .describe("The key's name as the change was made (the key may be gone since)."),
});
export type Author = z.infer<typeof Author>;

export const Deployment = z
  .object({
    id: z.string(),
    app: DnsLabel,
    revision: z.number().int(),
    trigger: DeploymentTrigger,
    createdBy: Author.nullable().describe(
      'The API key that asked for the deployment, so a team can tell which of its keys (a pipeline, a person) ' +
        'deployed what; null for one the platform made itself (the rollback after a failed deployment), or made ' +
        'before Berth recorded it.',
    ),
    status: DeploymentStatus,
    reason: z.string().nullable(),
    failedStarts: z
      .number()
      .int()
      .describe('Replicas of this revision that failed to start or stay healthy.'),
    phases: z.object({
      pull: Timestamp.nullable(),
      start: Timestamp.nullable(),
      healthy: Timestamp.nullable(),
      traffic: Timestamp.nullable(),
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof Deployment>;
