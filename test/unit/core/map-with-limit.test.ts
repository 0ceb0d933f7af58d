import { describe, expect, it } from 'vitest';
import { mapWithLimit } from '../../../functions/core/map-with-limit.ts';

describe('mapWithLimit', () => {
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
