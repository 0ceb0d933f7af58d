import { describe, expect, it } from 'vitest';
import { chunks, mapWithLimit } from '../../../functions/adapters/aws/chunks.ts';

describe('batching helpers', () => {
  it('chunks into consecutive batches of at most the size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 10)).toEqual([]);
  });

  it('maps with at most `limit` calls in flight, keeping the order of results', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapWithLimit([30, 5, 20, 1, 10, 2, 8], 3, async (ms) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight -= 1;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 20, 4, 16]);
    expect(most).toBe(3);
    expect(await mapWithLimit([], 3, async () => 1)).toEqual([]);
  });
});
