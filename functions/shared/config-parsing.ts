import { z } from 'zod';

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
