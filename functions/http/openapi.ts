import { z } from 'zod';
import { Problem } from '../../schemas/problem.ts';

/** A JSON body or response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A JSON body the request may leave out altogether (every field of `schema` optional; see emptyBodyIsNone). */
export const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

/** The problem responses every authenticated route may give. */
export const problems = {
  400: problemResponse('The request is not valid (validation.failed).'),
  401: problemResponse('No valid API key (auth.invalidKey).'),
  403: problemResponse('Wrong role, suspended tenant or quota exceeded.'),
  404: problemResponse('No such resource, or it belongs to another tenant.'),
  409: problemResponse('Conflict with the current state.'),
  412: problemResponse('If-Match names a stale version.'),
  413: problemResponse('The body is larger than 64 KiB.'),
  415: problemResponse('The body is not JSON.'),
  422: problemResponse('The Idempotency-Key was used with another request.'),
  429: problemResponse('Too many requests for this tenant (all its keys together); see Retry-After.'),
  500: problemResponse('An unexpected error (internal); the answer tells nothing of it, the logs do.'),
  503: problemResponse('A dependency is unavailable; retry.'),
} as const;

export const bearer = [{ bearer: [] }];

export const etagHeader = {
  ETag: { description: 'The version, for If-Match.', schema: { type: 'string' as const } },
};

export const ifMatchHeader = z.object({
  'if-match': z.string().optional().meta({
    description:
      'Apply only if the resource still has this ETag, or one of a comma-separated list; `*` for any. A weak ETag (`W/"v3"`, as a compressing proxy passes it on) names the same version.',
  }),
});

export const idempotencyHeader = z.object({
  'idempotency-key': z.string().max(255).optional().meta({
    description:
      'Makes a retried POST safe: its answer is replayed for 24 h, but for a 400, 429 or 5xx, which leave the key free.',
  }),
});
