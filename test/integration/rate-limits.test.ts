import { describe, expect, it, vi } from 'vitest';
import { createApi } from '../../functions/http/api.ts';
import { clientFor, localApi, sampleApp } from '../support/local-api.ts';

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe('shared rate limits on DynamoDB Local', () => {
  it("admits exactly a tenant's burst per window across API processes and keys, counting each tenant apart", async () => {
    const { deps, call, adminKey, createTenant } = await localApi({
      rateLimit: { ratePerSecond: 1, burst: 5, shared: true },
    });
    const acme = (await createTenant('acme')).key;
    const acmeToo = ((await call('POST', '/v1/tenants/acme/keys', adminKey)).json as { key: string }).key;
    const globex = (await createTenant('globex')).key;
    // Two API processes over one table, as two Lambda instances are, at one instant (one window).
    const at = new Date('2026-11-22T10:00:00.500Z');
    const processes = [1, 2].map(() => clientFor(createApi({ ...deps, clock: { now: () => at } }), 'unused'));
    const statuses = (
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          processes[i % 2]?.call('GET', '/v1/apps', i % 3 ? acme : acmeToo),
        ),
      )
    ).map((res) => res?.status ?? 0);
    expect(count(statuses, 200)).toBe(5);
    expect(count(statuses, 429)).toBe(7);
    expect((await processes[0]?.call('GET', '/v1/apps', globex))?.status).toBe(200);
  });

  it('stops counting a refused tenant in a process until its window ends, answering as counting would', async () => {
    const { deps, createTenant } = await localApi({
      rateLimit: { ratePerSecond: 1, burst: 5, shared: true },
    });
    const acme = (await createTenant('acme')).key;
    let at = new Date('2026-11-22T10:00:00.500Z');
    const clock = { now: () => at };
    const counting = vi.spyOn(deps.store, 'countRequest');
    const [first, second] = [1, 2].map(() => clientFor(createApi({ ...deps, clock }), 'unused'));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await first?.call('GET', '/v1/apps', acme))?.status ?? 0);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    expect(counting).toHaveBeenCalledTimes(6);
    const refused = await first?.call('GET', '/v1/apps', acme);
    expect(refused?.headers.get('retry-after')).toBe('5');
    // Another process has not seen the refusal: it counts, and the table refuses.
    expect((await second?.call('GET', '/v1/apps', acme))?.status).toBe(429);
    expect(counting).toHaveBeenCalledTimes(7);
    // The next window (5 s) admits the tenant again.
    at = new Date('2026-11-22T10:00:05.000Z');
    expect((await first?.call('GET', '/v1/apps', acme))?.status).toBe(200);
    expect(counting).toHaveBeenCalledTimes(8);
  });

  it('charges a request that holds its Lambda while it waits one request more per second it may wait', async () => {
    const { deps, call, createTenant } = await localApi({
      rateLimit: { ratePerSecond: 10, burst: 50, shared: true },
    });
    const acme = (await createTenant('acme')).key;
    await call('POST', '/v1/apps', acme, sampleApp('web'));
    const app = await deps.store.getApp('acme', 'web');
    const [pending] = (await deps.store.listDeployments('acme', app?.uid ?? '', { limit: 1 })).items;
    if (!app || !pending) throw new Error('no deployment');
    // Succeeded: a wait answers at once, but is charged for what it might have waited.
    expect(await deps.store.updateDeployment({ ...pending, status: 'succeeded' }, pending)).toBe(true);
    const path = `/v1/apps/web/deployments/${pending.id}`;
    const at = new Date('2026-11-22T10:00:00.000Z');
    const apiProcess = (bufferedAnswers?: { waitMs: number; maxBodyBytes: number }) =>
      clientFor(createApi({ ...deps, clock: { now: () => at }, bufferedAnswers }), 'unused');

    // Behind API Gateway (20 s at most): 1 + 19 each, so two fit in a burst of 50, the ten requests left after them
    // too, and a third does not.
    const gateway = apiProcess({ waitMs: 20_000, maxBodyBytes: 1024 });
    const waits = [];
    for (let i = 0; i < 2; i++) waits.push(await gateway.call('GET', `${path}?wait=30`, acme));
    for (let i = 0; i < 10; i++) expect((await gateway.call('GET', path, acme)).status).toBe(200);
    waits.push(await gateway.call('GET', `${path}?wait=30`, acme));
    expect(waits.map((w) => w.status)).toEqual([200, 200, 429]);
    expect(waits[2]?.headers.get('retry-after')).toBe('5');

    // Locally nothing buffers the answer and a wait holds no process: it costs one request, as any other.
    at.setTime(Date.parse('2026-11-22T10:00:05.000Z'));
    const local = apiProcess();
    const statuses = [];
    for (let i = 0; i < 51; i++) statuses.push((await local.call('GET', `${path}?wait=30`, acme)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.at(-1)).toBe(429);
  });
});
