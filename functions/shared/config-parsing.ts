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

/** Parses configuration with `schema`, or throws one error naming every field that is wrong. */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  prefix = '',
): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${prefix}${i.path.join('.')}: ${i.message}`)
      .join('\n');
    throw new Error(`invalid ${what}:\n${problems}`);
  }
  return parsed.data;
}
