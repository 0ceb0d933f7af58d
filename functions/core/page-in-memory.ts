import type { Page } from '../../schemas/common.ts';
import { ValidationError } from './errors.ts';
import type { PageRequest } from './ports.ts';

export const invalidCursor = () =>
  new ValidationError('the cursor is not valid; pass back nextCursor exactly as it was returned', [
    { path: 'cursor', message: 'invalid cursor' },
  ]);

/** The cursor of a page that ended at the item whose key is `key`. */
export const cursorAfter = (key: string) => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key a cursor made by cursorAfter holds; 400 for anything else. */
export function keyIn(cursor: string): string {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof key === 'string') return key;
  } catch {
    // not ours
  }
  throw invalidCursor();
}

/**
 * One page of a list an adapter answers whole (a tenant's repositories, a repository's images), ordered by `key`,
 * which must be unique. The cursor holds the last key shown, not a position, so the next page neither repeats nor
 * skips an item when others come or go in between.
 */
export function pageInMemory<T>(
  all: readonly T[],
  key: (item: T) => string,
  order: 'ascending' | 'descending',
  page: PageRequest,
): Page<T> {
  const before = (a: string, b: string) => (order === 'ascending' ? a < b : a > b);
  const sorted = [...all].sort((a, b) => (before(key(a), key(b)) ? -1 : before(key(b), key(a)) ? 1 : 0));
  const after = page.cursor === undefined ? undefined : keyIn(page.cursor);
  const rest = after === undefined ? sorted : sorted.filter((item) => before(after, key(item)));
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rest.length > page.limit && last !== undefined ? cursorAfter(key(last)) : null,
  };
}
