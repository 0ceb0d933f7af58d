import { describe, expect, it } from 'vitest';
import { CALLS_IN_FLIGHT, chunks, inBatches } from '../../../functions/adapters/aws/chunks.ts';

describe('batching helpers', () => {
  it('chunks into consecutive batches of at most the size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 10)).toEqual([]);
  });

  it('calls an API in capped batches, at most CALLS_IN_FLIGHT at once, results flattened in order', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 95 }, (_, i) => i);
    const results = await inBatches(items, 5, async (batch) => {
      batches.push(batch);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 3 - (batch[0] ?? 0) / 50));
      inFlight -= 1;
      return batch.map((n) => n * 10);
    });
    expect(results).toEqual(items.map((n) => n * 10));
    expect(batches).toHaveLength(19);
    expect(Math.max(...batches.map((b) => b.length))).toBe(5);
    expect(most).toBe(CALLS_IN_FLIGHT);
  });
});
