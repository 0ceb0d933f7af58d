import type { Context } from 'hono';
import { PreconditionFailedError } from '../core/errors.ts';
import type { IfMatch } from '../core/versioning.ts';

/** The strong ETag of a versioned resource. */
export const etagOf = (version: number) => `"v${version}"`;

/** One element of an If-Match list: an entity tag, weak or strong, or (group 2) anything else, which is malformed. */
const LIST_ELEMENT = /(?:W\/)?"([^"]*)"|([^\s,]+)/g;
const OUR_TAG = /^v(\d{1,15})$/;

/**
 * The versions an If-Match header accepts (RFC 9110 §13.1.1): undefined when absent or `*`, else those its entity tags
 * name. An empty header is a list of no tags, which none matches: a client whose ETag variable came up empty meant a
 * condition, and taking it for none would write over whatever changed since its read. A weak tag (`W/"v3"`) names its
 * version too: a proxy that compresses answers weakens the ETags it passes on, and "v3" is the resource's version, not
 * its bytes, so it stays exact. A header that is no list of entity tags, or none of whose tags can match a version, can
 * never match: it fails the precondition at once.
 */
export function ifMatchVersions(c: Context): IfMatch {
  const header = c.req.header('if-match')?.trim();
  if (header === undefined || header === '*') return undefined;
  if (header === '') {
    throw new PreconditionFailedError(
      'If-Match is empty: send the ETag a GET gave, such as "v3", or leave the header out',
    );
  }
  const versions: number[] = [];
  for (const [, tag, malformed] of header.matchAll(LIST_ELEMENT)) {
    if (malformed !== undefined) {
      throw new PreconditionFailedError(`If-Match ${header} is not a list of entity tags such as "v3"`);
    }
    const version = OUR_TAG.exec(tag ?? '')?.[1];
    if (version) versions.push(Number(version));
  }
  if (versions.length === 0)
    throw new PreconditionFailedError(
      `If-Match ${header} names no version of this resource: its ETags are "v" and a version, such as "v3", and a GET's ETag header gives the current one`,
    );
  return versions;
}
