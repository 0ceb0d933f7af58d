import * as z from 'zod';

/** Stable, dotted error codes of the API (API.md "Errors"). */
const ERROR_CODES = [
  'validation.failed',
  'auth.invalidKey',
  'auth.forbidden',
  'tenant.notFound',
  'tenant.exists',
  'tenant.suspended',
  'tenant.hasApps',
  'plan.notFound',
  'plan.exists',
  'plan.inUse',
  'app.notFound',
  'app.exists',
  'app.deleting',
  'app.stopped',
  'app.failed',
  'app.badResponse',
  'app.timeout',
  'revision.notFound',
  'revision.noPrevious',
  'revision.current',
  'revision.imageGone',
  'repository.notFound',
  'repository.exists',
  'repository.inUse',
  'deployment.notFound',
  'key.notFound',
  'key.inUse',
  'report.notFound',
  'route.notFound',
  'method.notAllowed',
  'quota.exceeded',
  'precondition.failed',
  'conflict',
  'idempotency.conflict',
  'idempotency.mismatch',
  'payload.tooLarge',
  'headers.tooLarge',
  'request.timeout',
  'media.unsupported',
  'rate.limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const FieldProblem = z
  .object({
    path: z.string().meta({
      description:
        'Where the problem is: a dotted path (`env.LOG_LEVEL`, `command.0`), a key that is not a plain name in brackets as JSON (`env[""]`), `(body)` for the whole body.',
    }),
    message: z.string(),
  })
  .meta({ id: 'FieldProblem' });
export type FieldProblem = z.infer<typeof FieldProblem>;

/** RFC 9457 problem details, with Berth's stable `code`. */
export const Problem = z
  .object({
    type: z.string().meta({ example: 'urn:berth:problem:app.notFound' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.enum(ERROR_CODES),
    errors: z.array(FieldProblem).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });
export type Problem = z.infer<typeof Problem>;
