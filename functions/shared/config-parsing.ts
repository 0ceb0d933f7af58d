import { z } from 'zod';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from '../adapters/alb/target-group-settings.ts';

/** The apps' load balancers' idle timeout, in seconds, within ALB's bounds (1-4000): the install's, and the Lambdas'. */
export const IdleTimeoutSeconds = z.number().int().min(1).max(4000);

/** The same in an environment variable; ALB's own default when it is not set. */
export const IdleTimeoutSecondsVar = z.coerce
  .number()
  .pipe(IdleTimeoutSeconds)
  .default(DEFAULT_IDLE_TIMEOUT_SECONDS);

/** A JSON value given as text (an environment variable). */
export const JsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

/**
 * Parses configuration with `schema`, or throws one error naming every field that is wrong. Without zod's compiled
 * fast path: configuration is parsed once, at start, where compiling one costs more than it saves.
 */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  prefix = '',
): z.infer<T> {
  const parsed = schema.safeParse(input, { jitless: true });
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${prefix}${i.path.join('.')}: ${i.message}`)
      .join('\n');
    throw new Error(`invalid ${what}:\n${problems}`);
  }
  return parsed.data;
}
