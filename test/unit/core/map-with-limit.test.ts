import { describe, expect, it } from 'vitest';
import { mapEachWithLimit, mapWithLimit } from '../../../functions/core/map-with-limit.ts';
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

describe('mapEachWithLimit', () => {
  it('maps every item though some fail: the results of the others in order, and each failure with its error', async () => {
    const refused = new Error('refused');
    const halve = overlapCounter(
      async (n: number) => {
        if (n % 2) throw refused;
        return n / 2;
      },
      (n) => n,
    );
    const { results, failures } = await mapEachWithLimit([8, 3, 6, 5, 4, 2], 2, halve.call);
    expect(results).toEqual([4, 3, 2, 1]);
    expect(failures).toEqual([
      { item: 3, error: refused },
      { item: 5, error: refused },
    ]);
    expect(halve.most).toBe(2);
  });
});
