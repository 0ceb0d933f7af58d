import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode, FieldProblem, Problem } from '../../schemas/problem.ts';
import { DomainError } from '../core/errors.ts';
import { RateLimitedError } from './middleware/rate-limit.ts';

/** The statuses Berth answers problems with, each with its reason phrase (RFC 9110) as the problem's title. */
const TITLE_BY_STATUS = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
} as const satisfies Partial<Record<ContentfulStatusCode, string>>;

const STATUS_BY_CODE: Record<ErrorCode, keyof typeof TITLE_BY_STATUS> = {
  'validation.failed': 400,
  'auth.invalidKey': 401,
  'auth.forbidden': 403,
  'tenant.notFound': 404,
  'tenant.exists': 409,
  'tenant.suspended': 403,
  'tenant.hasApps': 409,
  'plan.notFound': 404,
  'plan.exists': 409,
  'plan.inUse': 409,
  'app.notFound': 404,
  'app.exists': 409,
  'app.deleting': 409,
  'app.stopped': 409,
  'app.failed': 409,
  'app.badResponse': 502,
  'app.timeout': 504,
  'revision.notFound': 404,
  'revision.noPrevious': 409,
  'revision.current': 409,
  'revision.imageGone': 409,
  'repository.notFound': 404,
  'repository.exists': 409,
  'repository.inUse': 409,
  'deployment.notFound': 404,
  'key.notFound': 404,
  'key.inUse': 409,
  'report.notFound': 404,
  'route.notFound': 404,
  'method.notAllowed': 405,
  'quota.exceeded': 403,
  'precondition.failed': 412,
  conflict: 409,
  'idempotency.conflict': 409,
  'idempotency.mismatch': 422,
  'payload.tooLarge': 413,
  'headers.tooLarge': 431,
  'request.timeout': 408,
  'media.unsupported': 415,
  'rate.limited': 429,
  unavailable: 503,
  internal: 500,
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** What an answer to an error of Berth's own says of it: nothing of internals, only that the operator can read it. */
export const INTERNAL_ERROR_DETAIL = 'an internal error occurred; it has been logged';

/** The RFC 9457 problem document for `code`, about the resource at `instance`. */
export function problemOf(
  code: ErrorCode,
  detail: string,
  instance: string,
  errors?: FieldProblem[],
): Problem {
  const status = STATUS_BY_CODE[code];
  return {
    type: `urn:berth:problem:${code}`,
    title: TITLE_BY_STATUS[status],
    status,
    detail,
    instance,
    code,
    ...(errors?.length ? { errors } : {}),
  };
}

/** An RFC 9457 problem response for `code`. */
export function problem(
  c: Context,
  code: ErrorCode,
  detail: string,
  options: { errors?: FieldProblem[]; headers?: Record<string, string> } = {},
): Response {
  const body = problemOf(code, detail, c.req.path, options.errors);
  return c.body(JSON.stringify(body), STATUS_BY_CODE[code], {
    'content-type': PROBLEM_CONTENT_TYPE,
    ...options.headers,
  });
}

export interface ErrorLogger {
  error(message: string, details: Record<string, unknown>): void;
}

/**
 * The one mapping from thrown errors to responses: DomainErrors by code, Hono's own 4xx (malformed JSON, media
 * type) by status, and anything else as a logged 500 whose body says nothing about internals.
 */
export function errorToResponse(c: Context, err: unknown, logger: ErrorLogger): Response {
  const requestId: string | undefined = c.get('requestId');
  if (err instanceof DomainError) {
    // A dependency that failed (503) is the operator's to know of, with what it said: the answer only says to retry.
    if (STATUS_BY_CODE[err.code] >= 500) {
      logger.error(`answered ${err.code}`, { path: c.req.path, method: c.req.method, requestId, error: err });
    }
    const headers: Record<string, string> = {};
    // A dependency down, or the first request with this Idempotency-Key still running: either is soon over.
    if (err.code === 'unavailable' || err.code === 'idempotency.conflict') headers['retry-after'] = '1';
    if (err instanceof RateLimitedError) headers['retry-after'] = String(err.retryAfterSeconds);
    if (err.code === 'auth.invalidKey') headers['www-authenticate'] = 'Bearer';
    return problem(c, err.code, err.message, { errors: err.errors, headers });
  }
  if (err instanceof HTTPException && err.status < 500) {
    if (err.status === 415) {
      return problem(c, 'media.unsupported', 'send the body as JSON with Content-Type: application/json');
    }
    return problem(c, 'validation.failed', err.message || 'the request is not valid');
  }
  // The client went away before its request came whole (an upload cancelled: Node aborts the request, whose body
  // then fails): no error of the API's to log, and nobody to read the answer.
  if (c.req.raw.signal.aborted && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
    return problem(c, 'validation.failed', 'the client went away before its request came whole');
  }
  logger.error('unhandled error', { path: c.req.path, method: c.req.method, requestId, error: err });
  return problem(c, 'internal', `${INTERNAL_ERROR_DETAIL} with request id ${requestId}`);
}
