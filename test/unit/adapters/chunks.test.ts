import { describe, expect, it } from 'vitest';
import { CALLS_IN_FLIGHT, inBatches } from '../../../functions/adapters/aws/chunks.ts';
import { chunks } from '../../../functions/core/chunks.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

describe('batching helpers', () => {
  it('chunks into consecutive batches of at most the size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 10)).toEqual([]);
  });

  it('calls an API in capped batches, at most CALLS_IN_FLIGHT at once, results flattened in order', async () => {
    const batches: number[][] = [];
    const items = Array.from({ length: 95 }, (_, i) => i);
    const call = overlapCounter(
      (batch: number[]) => {
        batches.push(batch);
        return batch.map((n) => n * 10);
      },
      (batch) => 3 - (batch[0] ?? 0) / 50,
    );
    const results = await inBatches(items, 5, call.call);
    expect(results).toEqual(items.map((n) => n * 10));
    expect(batches).toHaveLength(19);
    expect(Math.max(...batches.map((b) => b.length))).toBe(5);
    expect(call.most).toBe(CALLS_IN_FLIGHT);
  });
});
