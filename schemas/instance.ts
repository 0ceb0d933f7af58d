import * as z from 'zod';
import { QueryInstant, queryInstantError, Timestamp, wholeNumber } from './common.ts';

export const InstanceHealth = z
  .enum(['starting', 'healthy', 'unhealthy', 'stopping', 'stopped'])
  .describe(
    '`starting` until its health check first passes, then `healthy` or `unhealthy` by its checks; `stopping` once ' +
      'asked to stop (replaced, scaled in, stopped), out of traffic and finishing its requests; `stopped` once exited.',
  );

export const Instance = z
  .object({
    id: z.string(),
    revision: z.number().int(),
    state: z.enum(['pending', 'running', 'exited']),
    health: InstanceHealth,
    restarts: z
      .number()
      .int()
      .describe('Failed starts of this replica slot (kept in memory by the control loop).'),
    startedAt: Timestamp.nullable(),
    stoppedAt: Timestamp.nullable(),
    exitCode: z.number().int().nullable(),
    exitReason: z
      .string()
      .nullable()
      .describe(
        "Why it exited, where the runtime says more than the code: `OOMKilled`, or ECS's reason (an image it could not pull).",
      ),
    cpuPercent: z.number().nullable().describe('CPU used, relative to the replica’s own limit.'),
    memoryMiB: z.number().nullable(),
  })
  .meta({ id: 'Instance' });
export type Instance = z.infer<typeof Instance>;

export const InstanceList = z.object({ items: z.array(Instance) }).meta({ id: 'InstanceList' });

/** A duration such as `30s`, `15m`, `2h`, `1d`. */
export const Duration = z
  .string()
  // Aborting lets a union that also takes other forms (LogQuery.since) answer with its own message.
  .regex(/^[1-9]\d{0,5}[smhd]$/, {
    error: 'must be a duration such as "30s", "15m", "2h" or "1d"',
    abort: true,
  });

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(duration: string): number {
  const unit = duration.slice(-1) as keyof typeof UNIT_MS;
  return Number(duration.slice(0, -1)) * UNIT_MS[unit];
}

/** Whole seconds as a Duration in the largest unit that divides them: 900 → `15m`, 90 → `90s`. */
export function durationOf(seconds: number): string {
  const unit = (['d', 'h', 'm'] as const).find((u) => seconds % (UNIT_MS[u] / 1000) === 0);
  return unit ? `${seconds / (UNIT_MS[unit] / 1000)}${unit}` : `${seconds}s`;
}

export const LogQuery = z.object({
  tail: wholeNumber(0, 10_000).default(100).describe('Lines per instance from the end.'),
  since: z
    .union([QueryInstant, Duration], {
      error: queryInstantError('must be an ISO-8601 timestamp, a date, or a duration such as "10m"'),
    })
    .optional()
    .describe(
      'Only lines written at or after this instant, to the millisecond (a date is its midnight UTC), or this long ' +
        'ago (e.g. "10m").',
    ),
  follow: z.enum(['true', 'false']).default('false').describe('Keep streaming new lines.'),
});
export type LogQuery = z.infer<typeof LogQuery>;

export const MetricsQuery = z.object({
  window: Duration.default('15m').describe(
    'The span to average over, where the runtime keeps a history (Fargate: CloudWatch, over the first that covers ' +
      'it of 1, 2, 5, 10, 15 and 30 minutes, 1, 2, 3, 6 and 12 hours, 1, 2, 3, 7, 15, 30, 63, 90, 180, 365 and 455 ' +
      'days; local Docker: since the platform first saw the replica running, at most 15 minutes); EKS ' +
      '(metrics-server) answers its latest sample.',
  ),
});

export const ReplicaMetrics = z
  .object({ id: z.string(), cpuPercent: z.number(), memoryMiB: z.number(), memoryPercent: z.number() })
  .meta({ id: 'ReplicaMetrics' });

export const AppMetrics = z
  .object({
    window: z
      .string()
      .describe(
        'The span the figures average over: the window asked for, as the runtime keeps it, or its sample’s.',
      ),
    sampledAt: Timestamp,
    replicas: z.array(ReplicaMetrics),
    average: z.object({ cpuPercent: z.number(), memoryPercent: z.number() }).nullable(),
  })
  .meta({ id: 'AppMetrics', description: 'CPU and memory relative to each replica’s limits.' });
export type AppMetrics = z.infer<typeof AppMetrics>;

export const AppEvent = z
  .object({
    id: z.string(),
    type: z.string(),
    message: z.string(),
    at: Timestamp,
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'What more there is to say. An event of a change an API key asked for names the key as `by`: ' +
          '`{keyId, keyName}`, as a deployment’s `createdBy`.',
      ),
  })
  .meta({ id: 'AppEvent' });
export type AppEvent = z.infer<typeof AppEvent>;
