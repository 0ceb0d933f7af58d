import * as z from 'zod';
import { plainMessage } from './messages.ts';

z.config({ customError: plainMessage });

/** RFC 1123 DNS label, as API.md requires for tenant ids, app names and repository names. */
export const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS label: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters. */
export const DnsLabel = z
  .string()
  .regex(DNS_LABEL, {
    message:
      'must be a DNS label: 1-63 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit (e.g. "my-app")',
  })
  .meta({ example: 'my-app' });

/**
 * A character a display name may hold: no control character (Unicode's Cc, C0 and C1; a line break or an escape
 * sequence would forge lines in logs and reports), no bidirectional override that reorders what a reader sees
 * (CVE-2021-42574). Spelt out rather than as `\p{Cc}`: a pattern that needs no `u` flag reads the same in every regex
 * dialect a client may check it with, and the OpenAPI generator wrote the flag into the document's pattern (`…$/u`,
 * which matched no name).
 */
const NOT_DISPLAYABLE = '\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';
const DISPLAYABLE = `[^${NOT_DISPLAYABLE}]`;
/** A character a trimmed name may start and end with: displayable, and no space or line break. */
const DISPLAYABLE_EDGE = `[^${NOT_DISPLAYABLE}\\s]`;

/**
 * A name people read (a tenant's, a plan's): 1 to `max` characters, see DISPLAYABLE, once the spaces and line breaks
 * around it are trimmed. The document's pattern says exactly that of the name as sent (the spaces JavaScript trims
 * are the `\s` of the ECMA-262 patterns JSON Schema uses): its length is in the pattern, as minLength and maxLength
 * would count the spaces around it.
 */
export const displayName = (max: number, example: string) =>
  z
    .string()
    .trim()
    .refine((name) => name.length >= 1 && name.length <= max, {
      message: `must be 1 to ${max} characters, not counting spaces around it`,
    })
    .regex(new RegExp(`^${DISPLAYABLE}*$`), {
      message: 'must not contain control characters or bidirectional overrides',
    })
    .describe(
      `A display name: 1 to ${max} characters once the spaces around it are trimmed, no control characters or ` +
        'bidirectional overrides.',
    )
    .meta({
      example,
      pattern: `^\\s*${DISPLAYABLE_EDGE}(?:${DISPLAYABLE}{0,${max - 2}}${DISPLAYABLE_EDGE})?\\s*$`,
    });

/**
 * When a check across fields runs (a refinement's `when`): when zod's own rule would run it (no issue so far that
 * stops the parse, such as a value that is no object; an unknown field does not) and those fields are valid each on
 * its own, so a field that is wrong gets one error, its own, and not a second one from a comparison with it.
 */
export const onceValid =
  (...fields: string[]) =>
  (payload: z.core.ParsePayload) =>
    !payload.issues.some((issue) => issue.continue !== true || fields.includes(String(issue.path?.[0])));

/** ISO-8601 UTC timestamp. */
export const Timestamp = z.iso.datetime().meta({ example: '2026-11-22T10:00:00.000Z' });

/** A timestamp whose offset's `+` the query string made a space: `2026-11-22T11:00:00 01:00`, sent `…+01:00`. */
const PLUS_READ_AS_SPACE = /T\d\d:\d\d(:\d\d(\.\d+)?)? \d\d:\d\d$/;

/**
 * The message for a query value that is no instant: `general`, or, for a timestamp whose offset's `+` was sent as
 * it is (as the examples write it), that a query string reads `+` as a space, and how to send it.
 */
export const queryInstantError =
  (general: string) =>
  (issue: { input?: unknown }): string =>
    typeof issue.input === 'string' && PLUS_READ_AS_SPACE.test(issue.input)
      ? 'has a space where its offset\'s "+" goes: a query string reads "+" as a space, so send it as %2B ' +
        '(2026-11-22T11:00:00%2B01:00)'
      : general;

/**
 * An instant asked for in a query: an ISO-8601 timestamp in UTC or with its offset (RFC 3339, as Cloud APIs take it),
 * or a date, which means its midnight UTC. A timestamp without either names no instant, so it is refused.
 */
export const QueryInstant = z.union(
  [
    z.iso.datetime({ offset: true }).meta({ example: '2026-11-22T10:00:00Z' }),
    z.iso.date().meta({ example: '2026-11-01' }),
  ],
  {
    error: queryInstantError(
      'must be an ISO-8601 timestamp such as 2026-11-22T10:00:00Z or 2026-11-22T11:00:00+01:00, or a date such as 2026-11-01',
    ),
  },
);

/**
 * A whole number in a path or a query, within [min, max]; one message names the range, whatever is wrong. Only
 * digits are read as a number: JavaScript's own coercion would take `?tail=` for 0 and `1e1` or `0x10` for numbers,
 * and would let the document say the parameter takes null (which coerces to 0).
 */
export function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  );
}

/** `?limit=&cursor=` of every list route. */
export const ListQuery = z.object({
  limit: wholeNumber(1, 100).default(20).describe('Items per page at most (default 20).'),
  cursor: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .describe('The nextCursor of the page before, as it was returned; without it, the first page.'),
});
export type ListQuery = z.infer<typeof ListQuery>;

/** The envelope of every list response. */
export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({
    id,
    description:
      'One page of results: at most `limit`, and fewer where a page ends early (none holds over 2.5 MB). Pass nextCursor as ?cursor= for the next one; it is null on the last page only.',
  });

/** One page of a list, as stores return it. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
