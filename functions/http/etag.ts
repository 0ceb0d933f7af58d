import type { Context } from 'hono';
import { PreconditionFailedError } from '../core/errors.ts';

/** The strong ETag of a versioned resource. */
export const etagOf = (version: number) => `"v${version}"`;

/**
 * The version an If-Match header asks for: undefined when absent or `*`. A value that cannot name a version
 * can never match, so it fails the precondition.
 */
export function ifMatchVersion(c: Context): number | undefined {
  const header = c.req.header('if-match')?.trim();
  if (!header || header === '*') return undefined;
  const match = /^(?:W\/)?"v(\d{1,15})"$/.exec(header);
  if (!match?.[1]) throw new PreconditionFailedError(`If-Match ${header} names no version of this resource`);
  return Number(match[1]);
}
