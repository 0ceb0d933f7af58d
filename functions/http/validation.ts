import type { Context } from 'hono';
import type { z } from 'zod';
import type { FieldProblem } from '../../schemas/problem.ts';
import { problem } from './problem.ts';

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_key' || issue.code === 'invalid_element') {
    return issue.issues.map((inner) => inner.message).join('; ');
  }
  return issue.message;
}

/** Turns zod issues into `errors[]` entries with dotted paths. */
function fieldProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: describeIssue(issue),
  }));
}

/** Where in the request each of Hono's validation targets is, as a client would name it. */
const WHERE: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query string',
  header: 'headers',
};

/** The zod-openapi hook: a failed validation becomes a 400 problem listing every field problem. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const errors = fieldProblems(result.error.issues);
  const where = WHERE[result.target] ?? result.target;
  return problem(
    c,
    'validation.failed',
    `the request ${where} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    {
      errors,
    },
  );
}
