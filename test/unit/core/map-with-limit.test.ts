import { describe, expect, it } from 'vitest';
import { mapWithLimit } from '../../../functions/core/map-with-limit.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

describe('mapWithLimit', () => {
  it('maps with at most `limit` calls in flight, keeping the order of results', async () => {
    const double = overlapCounter(
      (ms: number) => ms * 2,
      (ms) => ms,
    );
    const results = await mapWithLimit([30, 5, 20, 1, 10, 2, 8], 3, double.call);
    expect(results).toEqual([60, 10, 40, 2, 20, 4, 16]);
    expect(double.most).toBe(3);
    expect(await mapWithLimit([], 3, async () => 1)).toEqual([]);
  });
});
