import { describe, expect, it } from 'vitest';
import { createApi } from '../../functions/http/api.ts';
import { clientFor, localApi } from '../support/local-api.ts';

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe('shared rate limits on DynamoDB Local', () => {
  it("admits exactly a key's burst per window across API processes, counting each key apart", async () => {
    const { deps, createTenant } = await localApi({
      rateLimit: { ratePerSecond: 1, burst: 5, shared: true },
    });
    const acme = (await createTenant('acme')).key;
    const globex = (await createTenant('globex')).key;
    // Two API processes over one table, as two Lambda instances are, at one instant (one window).
    const at = new Date('2026-11-22T10:00:00.500Z');
    const processes = [1, 2].map(() => clientFor(createApi({ ...deps, clock: { now: () => at } }), 'unused'));
    const statuses = (
      await Promise.all(Array.from({ length: 12 }, (_, i) => processes[i % 2]?.call('GET', '/v1/apps', acme)))
    ).map((res) => res?.status ?? 0);
    expect(count(statuses, 200)).toBe(5);
    expect(count(statuses, 429)).toBe(7);
    expect((await processes[0]?.call('GET', '/v1/apps', globex))?.status).toBe(200);
  });
});
