import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { AppRecord } from '../../functions/core/ports.ts';
import { reservationOf } from '../../functions/core/quota.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

const NAMES = ['a', 'b', 'c'];
const name = fc.constantFrom(...NAMES);
const size = fc.constantFrom<[number, number]>([0.25, 512], [0.5, 1024], [1, 2048], [0.25, 2048]);
/** One request of a tenant's, or the platform's end of a deletion (what a pass does once the replicas are gone). */
const op = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), name, size, replicas: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('scale' as const), name, replicas: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('resize' as const), name, size }),
  fc.record({
    kind: fc.constantFrom('stop' as const, 'start' as const, 'delete' as const, 'finish' as const),
    name,
  }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

it("keeps a tenant's reservation the sum of its apps' through concurrent creates, scales, resizes, stops, starts and deletions", async () => {
  const api = await localApi();
  await api.createPlan('tight', { apps: 2, instancesPerApp: 3, vcpu: 2, memoryMiB: 6144 });
  let tenants = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { maxLength: 6 }),
      async (rounds) => {
        const tenant = `t${tenants++}`;
        const key = (await api.createTenant(tenant, 'tight')).key;
        const apps = async () => (await api.deps.store.listApps(tenant, { limit: 10 })).items;
        const run = async (o: Op) => {
          const path = `/v1/apps/${o.name}`;
          if (o.kind === 'create') {
            const [cpu, memory] = o.size;
            return api.call('POST', '/v1/apps', key, {
              ...sampleApp(o.name),
              cpu,
              memory,
              replicas: o.replicas,
            });
          }
          if (o.kind === 'scale') return api.call('POST', `${path}/scale`, key, { replicas: o.replicas });
          if (o.kind === 'resize') return api.call('PATCH', path, key, { cpu: o.size[0], memory: o.size[1] });
          if (o.kind === 'delete') return api.call('DELETE', path, key);
          if (o.kind === 'finish') {
            const app = (await apps()).find((a) => a.name === o.name && a.status === 'deleting');
            return app && api.deps.store.finalizeAppDeletion(app).catch(() => undefined);
          }
          return api.call('POST', `${path}/${o.kind}`, key);
        };
        for (const round of rounds) {
          const answers = await Promise.all(round.map(run));
          for (const answer of answers)
            if (answer && 'status' in answer) expect(answer.status, answer.text).toBeLessThan(500);
        }
        const held = (await apps()).map((app: AppRecord) => reservationOf(app));
        const sum = held.reduce(
          (total, r) => ({
            apps: total.apps + r.apps,
            vcpuMilli: total.vcpuMilli + r.vcpuMilli,
            memoryMiB: total.memoryMiB + r.memoryMiB,
          }),
          { apps: 0, vcpuMilli: 0, memoryMiB: 0 },
        );
        expect((await api.deps.store.getTenant(tenant))?.reserved).toEqual(sum);
        expect(sum.apps).toBeLessThanOrEqual(2);
        expect(sum.vcpuMilli).toBeLessThanOrEqual(2000);
        expect(sum.memoryMiB).toBeLessThanOrEqual(6144);
      },
    ),
    { numRuns: 40 },
  );
}, 300_000);
