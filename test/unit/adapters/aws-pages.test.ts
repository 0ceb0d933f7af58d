import { describe, expect, it } from 'vitest';
import { allPages } from '../../../functions/adapters/aws/pages.ts';

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

describe('every page of a paged AWS call', () => {
  it('follows the tokens from the first page to the one that names none, asking a throttled page again', async () => {
    const asked: (string | undefined)[] = [];
    const book: Record<string, { items: number[]; next?: string }> = {
      first: { items: [1, 2], next: 't2' },
      t2: { items: [3], next: 't3' },
      t3: { items: [4] },
    };
    let throttles = 1;
    const pages = allPages(
      async (token: string | undefined) => {
        asked.push(token);
        if (token === 't2' && throttles-- > 0) throw throttled();
        const page = book[token ?? 'first'];
        if (!page) throw new Error(`no page ${token}`);
        return page;
      },
      (page) => page.next,
      { sleep: async () => {} },
    );
    const items: number[] = [];
    for await (const page of pages) items.push(...page.items);
    expect(items).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([undefined, 't2', 't2', 't3']);
  });

  it('fails with the error of a page that fails otherwise, after the pages before it', async () => {
    const seen: number[] = [];
    const pages = allPages(
      async (token: string | undefined) => {
        if (token)
          throw Object.assign(new Error('no such repository'), { name: 'RepositoryNotFoundException' });
        return { items: [1], next: 'more' };
      },
      (page) => page.next,
      { sleep: async () => {} },
    );
    await expect(
      (async () => {
        for await (const page of pages) seen.push(...page.items);
      })(),
    ).rejects.toThrow('no such repository');
    expect(seen).toEqual([1]);
  });
});
