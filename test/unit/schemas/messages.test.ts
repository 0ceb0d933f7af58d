import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import '../../../schemas/common.ts';

const messageOf = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`${JSON.stringify(value)} passed`);
  return result.error.issues.map((issue) => issue.message);
};

describe('validation messages in plain words', () => {
  it.each([
    ['a missing field', z.object({ port: z.number() }), {}, 'is required'],
    ['a wrong type', z.number(), '8080', 'must be a number'],
    ['a string where an array goes', z.array(z.string()), 'sh -c x', 'must be an array'],
    ['an array where an object goes', z.record(z.string(), z.string()), [], 'must be an object'],
    ['a fraction where a whole number goes', z.number().int(), 1.5, 'must be a whole number'],
    ['a number below its minimum', z.number().min(1), 0, 'must be at least 1'],
    ['a number at an exclusive minimum', z.number().positive(), 0, 'must be more than 0'],
    ['a number above its maximum', z.number().max(10), 11, 'must be at most 10'],
    ['a string too long', z.string().max(3), 'abcd', 'must be at most 3 characters'],
    ['a string too short by one', z.string().min(1), '', 'must be at least 1 character'],
    ['an empty list', z.array(z.string()).min(1), [], 'must not be empty'],
    ['a list too long', z.array(z.string()).max(2), ['a', 'b', 'c'], 'must be at most 2 items'],
    ['a value not in the enum', z.enum(['docker', 'fargate']), 'k8s', 'must be one of "docker", "fargate"'],
    ['a literal', z.literal('tenant'), 'admin', 'must be "tenant"'],
    ['a number off its step', z.number().multipleOf(0.25), 0.3, 'must be a multiple of 0.25'],
  ])('%s', (_what, schema, value, message) => {
    expect(messageOf(schema, value)).toEqual([message]);
  });

  it("keeps a schema's own message", () => {
    expect(messageOf(z.string().min(2, 'say more'), 'a')).toEqual(['say more']);
  });
});
