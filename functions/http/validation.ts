import type { Context, MiddlewareHandler } from 'hono';
import type * as z from 'zod';
import type { FieldProblem } from '../../schemas/problem.ts';
import { problem } from './problem.ts';

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_key' || issue.code === 'invalid_element') {
    return issue.issues.map((inner) => inner.message).join('; ');
  }
  return issue.message;
}

/** A key a dotted path can name as it is: not empty, no dot, nothing a client would have to quote. */
const PLAIN_KEY = /^[\w$-]+$/;

/**
 * A field's path as a client writes it to reach the field: `env.LOG_LEVEL`, `command.0`; a key that is not plain
 * in brackets, as JSON (`env[""]`, `env["a.b"]`), so no two fields read alike. The whole body is `(body)`.
 */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    const key = String(segment);
    if (typeof segment === 'number' || PLAIN_KEY.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out || '(body)';
}

/** How tight a bound an issue names is (the lower the tighter): an upper bound's value, a lower bound's negated. */
const boundOf = (issue: z.core.$ZodIssue) =>
  issue.code === 'too_big'
    ? Number(issue.maximum)
    : issue.code === 'too_small'
      ? -Number(issue.minimum)
      : undefined;

/**
 * The issues but those of a bound a tighter one at the same path says already: `"apps": 1e300`, past its maximum of
 * 10000, is past a whole number's safe range too (9007199254740991), which tells the client nothing more.
 */
function tightestBounds(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const tightest = new Map<string, { issue: z.core.$ZodIssue; bound: number }>();
  const where = (issue: z.core.$ZodIssue) => `${issue.code} ${fieldPath(issue.path)}`;
  for (const issue of issues) {
    const bound = boundOf(issue);
    if (bound === undefined) continue;
    const held = tightest.get(where(issue));
    if (!held || bound < held.bound) tightest.set(where(issue), { issue, bound });
  }
  return issues.filter(
    (issue) => boundOf(issue) === undefined || tightest.get(where(issue))?.issue === issue,
  );
}

/**
 * Turns zod issues into `errors[]` entries with paths (fieldPath), each once: checks that share a message (a whole
 * number's `int` and `max` on 1e20) would otherwise list the same problem twice; of a value's bounds, the tightest.
 */
function fieldProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  const problems = new Map<string, FieldProblem>();
  for (const issue of tightestBounds(issues)) {
    const entry = { path: fieldPath(issue.path), message: describeIssue(issue) };
    problems.set(JSON.stringify(entry), entry);
  }
  return [...problems.values()];
}

/** Where in the request each of Hono's validation targets is, as a client would name it. */
const WHERE: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query string',
  header: 'headers',
};

/**
 * Where `value` holds a string that is not well-formed Unicode (its keys passed their schemas): a lone surrogate,
 * which JSON's `\u` escapes can carry but neither UTF-8 nor a URI can. Taken as it is, it was stored and shown back,
 * and then failed every start of the app ("URI malformed").
 */
function illFormedText(value: unknown, path: string[] = []): FieldProblem | undefined {
  if (typeof value === 'string') {
    return value.isWellFormed() ? undefined : { path: fieldPath(path), message: LONE_SURROGATE };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = illFormedText(inner, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

const LONE_SURROGATE =
  'must be well-formed Unicode, but holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair)';

/**
 * How deep into a body `prototypeKeys` looks: deeper than any field of any body lies (`scaling.schedules.0.cron` is
 * four keys down), so what is deeper has been refused by the body's schema already; and 64 KiB of JSON nests some
 * 30,000 deep, past the call stack.
 */
const DEEPEST_FIELD = 8;

/**
 * The keys `__proto__` in a JSON body, but those an issue refuses already (`refused`: the paths of objects that said
 * it is an unknown field). JSON may name a key so; a record's schema drops it without a word (zod will not set it on
 * the object it builds), so an env var by that name was answered 201 and was not there.
 */
function prototypeKeys(value: unknown, refused: ReadonlySet<string>, path: string[] = []): FieldProblem[] {
  if (typeof value !== 'object' || value === null || path.length > DEEPEST_FIELD) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key !== '__proto__'
      ? prototypeKeys(inner, refused, [...path, key])
      : refused.has(fieldPath(path))
        ? []
        : [{ path: fieldPath([...path, key]), message: PROTOTYPE_KEY }],
  );
}

const PROTOTYPE_KEY = '"__proto__" is a name no key may have here; choose another';

/** The paths of the objects whose issues refuse `__proto__` as an unknown field. */
const refusingPrototype = (issues: readonly z.core.$ZodIssue[]) =>
  new Set(
    issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' && issue.keys.includes('__proto__') ? [fieldPath(issue.path)] : [],
    ),
  );

/**
 * A query parameter given more than once (`?limit=1&limit=2`) is said to be so, rather than by the message its
 * schema has for a value of the wrong type.
 */
function givenOnce(c: Context, target: string, found: FieldProblem): FieldProblem {
  const times = target === 'query' ? (c.req.queries(found.path)?.length ?? 0) : 0;
  return times > 1 ? { path: found.path, message: `must be given once, not ${times} times` } : found;
}

/**
 * The zod-openapi hook: a failed validation becomes a 400 problem listing every field problem, and so does text
 * that passed its schema but is not well-formed Unicode, and a body's key `__proto__` its schema dropped.
 */
export async function validationHook(
  result:
    | { success: true; data: unknown; target: string }
    | { success: false; error: z.ZodError; target: string },
  c: Context,
): Promise<Response | undefined> {
  const issues = result.success ? [] : result.error.issues;
  // The body as sent (Hono keeps what it parsed): the data a schema gives back has no `__proto__` left to find.
  const body = result.target === 'json' ? await c.req.json().catch(() => undefined) : undefined;
  const errors = [
    ...(result.success
      ? [illFormedText(result.data)].filter((found) => found !== undefined)
      : fieldProblems(issues).map((found) => givenOnce(c, result.target, found))),
    ...prototypeKeys(body, refusingPrototype(issues)),
  ];
  return errors.length ? invalid(c, result.target, errors) : undefined;
}

/** The 400 problem of a request whose `target` (Hono's name: `json`, `query` …) has these field problems. */
function invalid(c: Context, target: string, errors: FieldProblem[]): Response {
  const where = WHERE[target] ?? target;
  return problem(
    c,
    'validation.failed',
    `the request ${where} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    { errors },
  );
}

/**
 * A route's guard against query parameters it does not take (`?limit=` where the route reads `?tail=`, `?folow=`,
 * `?=1`): a 400 naming them and the ones it takes, as a body's unknown fields are, rather than an answer that looks
 * right but ignored them. Read from the URL itself: Hono's parser drops a parameter without a name.
 */
export function onlyQueryParameters(names: readonly string[]): MiddlewareHandler {
  const takes = names.length ? `this route takes ${names.join(', ')}` : 'this route takes none';
  return async (c, next) => {
    const given = new Set(new URL(c.req.url).searchParams.keys());
    const unknown = [...given].filter((name) => !names.includes(name));
    if (unknown.length) {
      return invalid(
        c,
        'query',
        unknown.map((name) =>
          name
            ? { path: name, message: `not a parameter; ${takes}` }
            : { path: '(no name)', message: `a parameter needs a name; ${takes}` },
        ),
      );
    }
    await next();
  };
}
