import { describe, expect, it } from 'vitest';
import { pageInMemory } from '../../../functions/core/page-in-memory.ts';

const names = ['delta', 'alpha', 'charlie', 'bravo'];
const byName = (n: string) => n;

describe('pageInMemory', () => {
  it('pages in either order, the last page with a null cursor', () => {
    const first = pageInMemory(names, byName, 'ascending', { limit: 3 });
    expect(first.items).toEqual(['alpha', 'bravo', 'charlie']);
    expect(pageInMemory(names, byName, 'ascending', { limit: 3, cursor: first.nextCursor ?? '' })).toEqual({
      items: ['delta'],
      nextCursor: null,
    });
    expect(pageInMemory(names, byName, 'descending', { limit: 4 })).toEqual({
      items: ['delta', 'charlie', 'bravo', 'alpha'],
      nextCursor: null,
    });
  });

  it('goes on after the last item shown even when it is gone, neither repeating nor skipping', () => {
    const first = pageInMemory(names, byName, 'descending', { limit: 2 });
    expect(first.items).toEqual(['delta', 'charlie']);
    const meanwhile = ['alpha', 'bravo', 'delta', 'echo'];
    expect(
      pageInMemory(meanwhile, byName, 'descending', { limit: 2, cursor: first.nextCursor ?? '' }),
    ).toEqual({
      items: ['bravo', 'alpha'],
      nextCursor: null,
    });
  });

  it('refuses a cursor it did not make', () => {
    for (const cursor of ['%%%', Buffer.from('{"pk":"x"}').toString('base64url')]) {
      expect(() => pageInMemory(names, byName, 'ascending', { limit: 2, cursor })).toThrow(
        expect.objectContaining({ code: 'validation.failed' }),
      );
    }
  });
});
