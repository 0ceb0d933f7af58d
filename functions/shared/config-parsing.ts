import * as z from 'zod';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from '../adapters/alb/target-group-settings.ts';

/** The apps' load balancers' idle timeout in seconds, within ALB's bounds (1-4000): the install's, and the Lambdas'. */
export const IdleTimeoutSeconds = z.number().int().min(1).max(4000);

/** The same in an environment variable; ALB's own default when it is not set. */
export const IdleTimeoutSecondsVar = z.coerce
  .number()
  .pipe(IdleTimeoutSeconds)
  .default(DEFAULT_IDLE_TIMEOUT_SECONDS);

/** A tenant's token bucket, all its keys together, unless the install says otherwise (API.md's defaults). */
export const DEFAULT_RATE_LIMIT = { perSecond: 50, burst: 200 } as const;

/** The tenants' rate limit in environment variables: local mode's settings, and the install's `rateLimit` on AWS. */
export const RateLimitVars = {
  BERTH_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(DEFAULT_RATE_LIMIT.perSecond),
  BERTH_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(DEFAULT_RATE_LIMIT.burst),
};

/** An admin key's SHA-256 hex: what an install is given, and its Lambdas check keys against. */
export const AdminKeyHash = z
  .string()
  .regex(
    /^[0-9a-f]{64}$/,
    'must be the SHA-256 of the admin key, 64 lowercase hex digits: printf %s "$KEY" | sha256sum',
  );

/** The admin keys an install takes at once: its key, and during a rotation the next one. */
export const AdminKeyHashes = z.array(AdminKeyHash).min(1).max(2);

/** A JSON value given as text (an environment variable). */
export const JsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

/** Configuration that is not valid: its message names every field that is wrong, and what each must be. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses configuration with `schema`, or throws one ConfigError naming every field that is wrong. Without zod's
 * compiled fast path: configuration is parsed once, at start, where compiling one costs more than it saves.
 */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  prefix = '',
): z.infer<T> {
  const parsed = schema.safeParse(input, { jitless: true });
  if (!parsed.success) {
    throw configError(
      what,
      parsed.error.issues.map((i) => ({ field: `${prefix}${i.path.join('.')}`, message: i.message })),
    );
  }
  return parsed.data;
}

/** The ConfigError naming each field that is wrong and what it must be, a line each. */
export function configError(what: string, problems: { field: string; message: string }[]): ConfigError {
  const lines = problems.map(({ field, message }) => `  ${field}: ${message}`);
  return new ConfigError(`invalid ${what}:\n${lines.join('\n')}`);
}
