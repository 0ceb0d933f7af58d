import fc from 'fast-check';
import { expect, it } from 'vitest';
import { localApi, sampleApp } from '../support/local-api.ts';

/**
 * Concurrent POSTs of one Idempotency-Key, most with the same body, some with another (an app of another name), some
 * sent again once the first have answered.
 */
const volley = fc.record({
  first: fc.array(fc.boolean(), { minLength: 2, maxLength: 8 }),
  again: fc.array(fc.boolean(), { maxLength: 3 }),
});

it('creates one app for one Idempotency-Key however many POSTs race with it: the others replay its answer, wait (409) or differ (422)', async () => {
  const api = await localApi();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(volley, async ({ first, again }) => {
      const key = (await api.createTenant(`tenant-${n++}`)).key;
      const headers = { 'idempotency-key': 'one-key' };
      const post = (other: boolean) =>
        api.call('POST', '/v1/apps', key, sampleApp(other ? 'api' : 'web'), headers);
      const answers = (await Promise.all(first.map(post))).map((res, i) => ({ res, other: first[i] }));
      const later = await Promise.all(again.map(async (other) => ({ res: await post(other), other })));

      const created = answers.filter(
        ({ res }) => res.status === 201 && !res.headers.get('idempotent-replayed'),
      );
      expect(created).toHaveLength(1);
      const [winner] = created;
      const apps = await api.call('GET', '/v1/apps', key);
      expect((apps.json.items as { name: string }[]).map((a) => a.name)).toEqual([
        winner?.other ? 'api' : 'web',
      ]);
      for (const { res, other } of [...answers, ...later]) {
        if (res === winner?.res) continue;
        if (other !== winner?.other) {
          expect({ status: res.status, code: res.json.code }).toEqual({
            status: 422,
            code: 'idempotency.mismatch',
          });
        } else if (res.status === 201) {
          expect(res.headers.get('idempotent-replayed')).toBe('true');
          expect(res.text).toBe(winner?.res.text);
          expect(res.headers.get('location')).toBe(winner?.res.headers.get('location'));
        } else {
          expect({ status: res.status, code: res.json.code }).toEqual({
            status: 409,
            code: 'idempotency.conflict',
          });
        }
      }
      // Once the first has answered, the same request is replayed, never run again nor refused as running.
      for (const { res, other } of later) if (other === winner?.other) expect(res.status).toBe(201);
    }),
    { numRuns: 40 },
  );
}, 120_000);
