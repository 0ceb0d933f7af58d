import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import * as z from 'zod';
import { Problem } from '../../schemas/problem.ts';
import { emptyBodyIsNone } from './middleware/empty-body.ts';
import { releasesKey } from './middleware/idempotency.ts';
import { onlyQueryParameters } from './validation.ts';

/** A JSON body or response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/**
 * A JSON body the request may leave out altogether (every field of `schema` optional); apiRoute takes one sent empty
 * as none (emptyBodyIsNone).
 */
export const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});

/**
 * The body of an action that takes none (`/stop`, `/v1/registry/token`): absent, empty or `{}`, as clients send on
 * every POST; a field is refused as unknown, as in every body, rather than ignored (`{"force": true}` forces
 * nothing).
 */
export const noFields = optionalJsonBody(
  z.strictObject({}).meta({ id: 'NoFields', description: 'No fields: send no body, or `{}`.' }),
);

/** The headers Berth's answers carry beyond their content's, documented once in components.headers (createApi). */
export const RESPONSE_HEADERS = {
  ETag: { description: 'The version, for If-Match.', required: true, schema: { type: 'string' as const } },
  Location: {
    description: 'The path of what the request made.',
    required: true,
    schema: { type: 'string' as const },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer' as const, minimum: 1 },
  },
  'Idempotent-Replayed': {
    description: 'The answer kept for this Idempotency-Key, replayed: the request did nothing more.',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

/** The documented response headers `names`, as references to components.headers. */
export const responseHeaders = (...names: (keyof typeof RESPONSE_HEADERS)[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

const problemResponse = (description: string, headers?: ReturnType<typeof responseHeaders>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: Problem } },
});

/** The problem responses an authenticated route may give; apiRoute documents those of each. */
const problems = {
  400: problemResponse('The request is not valid (validation.failed).'),
  401: problemResponse('No valid API key (auth.invalidKey).'),
  403: problemResponse('Wrong role, suspended tenant or quota exceeded.'),
  404: problemResponse('No such resource, or it belongs to another tenant.'),
  409: problemResponse('Conflict with the current state.'),
  412: problemResponse('If-Match names a stale version.'),
  413: problemResponse('The body is larger than 64 KiB.'),
  415: problemResponse('The body is not JSON, or is sent compressed (`Content-Encoding`).'),
  422: problemResponse(
    'The Idempotency-Key was used with another request: another path, query string or body data (spacing and key order aside).',
  ),
  429: problemResponse(
    'Too many requests for this tenant (all its keys together); see Retry-After.',
    responseHeaders('Retry-After'),
  ),
  500: problemResponse('An unexpected error (internal); the answer tells nothing of it, the logs do.'),
  503: problemResponse('A dependency is unavailable; retry.', responseHeaders('Retry-After')),
} as const;

/** A POST's 409, which its Idempotency-Key may answer too. */
const postConflict = problemResponse(
  'Conflict with the current state, or the first request with this Idempotency-Key still runs (idempotency.conflict; see Retry-After).',
  responseHeaders('Retry-After'),
);

/**
 * The problems a route may answer, read from what it takes: 409 and 413 when it writes (a GET has no body, and changes
 * nothing to conflict with); 412 when it takes If-Match; 415 when it takes a body; 422 when it is a POST (its
 * Idempotency-Key); the others always (400 too: every route checks its query string, if nothing else).
 */
function problemsOf({ method, request }: RouteConfig) {
  const { 409: conflict, 412: stale, 413: tooLarge, 415: notJson, 422: keyReused, ...always } = problems;
  const headers = request?.headers;
  const takesIfMatch = headers instanceof z.ZodObject && 'if-match' in headers.shape;
  return {
    ...always,
    ...(method === 'get' ? {} : { 409: method === 'post' ? postConflict : conflict, 413: tooLarge }),
    ...(takesIfMatch ? { 412: stale } : {}),
    ...(request?.body ? { 415: notJson } : {}),
    ...(method === 'post' ? { 422: keyReused } : {}),
  };
}

/**
 * A route of the API, with the problem responses it may give (see problemsOf), that answers 400 to a query parameter
 * it does not take, and takes an optional body sent empty as none (both after its own middleware, so a wrong role is
 * still told first).
 */
export const apiRoute = <const R extends RouteConfig>(route: R) =>
  createRoute({
    ...route,
    middleware: [
      route.middleware ?? [],
      route.request?.body?.required === false ? emptyBodyIsNone : [],
      onlyQueryParameters(queryParameters(route)),
    ].flat(),
    responses: replayable(route.method, { ...route.responses, ...problemsOf(route) }),
  });

/**
 * A POST's responses with `Idempotent-Replayed` on those its Idempotency-Key keeps (see idempotency.ts), which the 422
 * of a key reused for another request is not (it is the key's own answer, never kept); those of other methods as they
 * are.
 */
function replayable<T extends RouteConfig['responses']>(method: RouteConfig['method'], responses: T): T {
  if (method !== 'post') return responses;
  const replayed = responseHeaders('Idempotent-Replayed');
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      releasesKey(Number(status)) || status === '422' || '$ref' in response
        ? response
        : { ...response, headers: { ...response.headers, ...replayed } },
    ]),
  ) as T;
}

/** The names of the query parameters a route takes: the keys of its query schema, an object. */
function queryParameters({ method, path, request }: RouteConfig): string[] {
  const query = request?.query;
  if (query === undefined) return [];
  if (!(query instanceof z.ZodObject))
    throw new Error(`the query of ${method} ${path} is not an object schema`);
  return Object.keys(query.shape);
}

export const bearer = [{ bearer: [] }];

export const etagHeader = responseHeaders('ETag');

export const ifMatchHeader = z.object({
  'if-match': z.string().optional().meta({
    description:
      'Apply only if the resource (for an action on an app, the app) still has this ETag, or one of a comma-separated list; `*` for any. A weak ETag (`W/"v3"`, as a compressing proxy passes it on) names the same version.',
  }),
});

export const idempotencyHeader = z.object({
  'idempotency-key': z.string().max(255).optional().meta({
    description:
      'Makes a retried POST safe: its answer is replayed for 24 h, but for a 400, 412, 415, 429 or 5xx, which leave the key free.',
  }),
});

/** The headers of a POST that acts on an app (`/scale`, `/stop`, a deploy…): its Idempotency-Key, and If-Match. */
export const appActionHeaders = idempotencyHeader.extend(ifMatchHeader.shape);
