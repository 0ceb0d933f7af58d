import fc from 'fast-check';
import { expect, it } from 'vitest';
import { localApi, sampleApp } from '../support/local-api.ts';

/** Mostly what a client would send, now and then something it should not: both kinds reach the deeper checks. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: odd, weight: 1 });

const odd = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '../', 'a'.repeat(5000)),
);
const text = mostly(
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom('$PORT', '$(HOME)', '$$', '"quoted"', "it's", 'a=b', '%s', '\\n'),
  ),
  odd,
);
/** Names as clients write them, and the names a plain object has already (`constructor`, `__proto__` …). */
const envName = mostly(
  fc.oneof(
    {
      arbitrary: fc
        .stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/)
        .filter((name) => !/^(BERTH|AWS|ECS|PORT$)/.test(name)),
      weight: 3,
    },
    fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)),
  ),
  odd,
);
const cron = mostly(
  fc.constantFrom('0 8 * * *', '*/5 * * * *', '0 0 29 2 *', '0 8 * * MON-FRI', '0 8 * * 7', '0 8 1-31/2 * *'),
  fc.oneof(fc.constantFrom('0 0 31 2 *', '60 * * * *', '* * * * * *', '0 8 L * *'), odd),
);
const timezone = mostly(
  fc.constantFrom('Europe/Berlin', '+02:00', 'utc', 'America/St_Johns', 'Asia/Kathmandu'),
  fc.constantFrom('Z', 'Mars/Base'),
);
/** Bounds with min ≤ max: refusals of crossed bounds have tests of their own (bad-input.test.ts). */
const bounds = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 10 }))
  .map(([min, max]) => ({ min: Math.min(min, max), max }));
const schedule = fc
  .tuple(bounds, fc.record({ cron, timezone }, { requiredKeys: ['cron'] }))
  .map(([range, rest]) => ({ ...rest, ...range }));
const scaling = fc
  .tuple(
    bounds,
    fc.record(
      {
        targetCpuPercent: fc.integer({ min: 1, max: 100 }),
        targetMemoryPercent: fc.integer({ min: 1, max: 100 }),
        schedules: fc.array(schedule, { maxLength: 3 }),
        scaleInStabilizationSeconds: fc.integer({ min: 0, max: 3600 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([range, rest]) => ({ ...rest, ...range }));
const healthCheck = fc.record(
  {
    path: mostly(fc.constantFrom('/', '/healthz', '/a/b?x=1', '/%2e%2e/', '/~user', "/it's"), odd),
    intervalSeconds: fc.integer({ min: 5, max: 300 }),
    timeoutSeconds: fc.integer({ min: 1, max: 5 }),
    healthyThreshold: fc.integer({ min: 1, max: 10 }),
    unhealthyThreshold: fc.integer({ min: 1, max: 10 }),
    gracePeriodSeconds: fc.integer({ min: 0, max: 3600 }),
  },
  { requiredKeys: [] },
);
const size = fc.constantFrom<[number, number]>(
  [0.25, 512],
  [0.25, 1024],
  [0.5, 2048],
  [1, 8192],
  [4, 8192],
  [16, 32768],
);
const spec = fc.record(
  {
    size,
    port: mostly(fc.constantFrom(8080, 80, 3000, 65535, 1), fc.integer({ min: -1, max: 70000 })),
    command: fc
      .tuple(mostly(fc.constantFrom('sh', 'httpd', '/bin/busybox'), odd), fc.array(text, { maxLength: 3 }))
      .map(([program, args]) => [program, ...args]),
    env: fc.dictionary(envName, text, { maxKeys: 5 }),
    healthCheck,
    scaling,
    replicas: fc.integer({ min: 0, max: 10 }),
  },
  { requiredKeys: ['size', 'replicas'] },
);
type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

/** A spec as a body: its size as cpu and memory, and replicas within its scaling's bounds. */
function bodyOf({ size: [cpu, memory], replicas, ...rest }: Spec) {
  const within = rest.scaling ? Math.max(rest.scaling.min, Math.min(replicas, rest.scaling.max)) : replicas;
  return { ...rest, cpu, memory, replicas: within };
}

it('takes an app spec whole or refuses it whole: a create or PATCH taken answers and reads back what it set, a refusal changes nothing, never a 5xx', async () => {
  const api = await localApi();
  await api.createPlan('roomy', {
    apps: 10_000,
    instancesPerApp: 100,
    vcpu: 100_000,
    memoryMiB: 100_000_000,
  });
  const key = (await api.createTenant('acme', 'roomy')).key;
  const taken = { creates: 0, patches: 0 };
  let n = 0;
  await fc.assert(
    fc.asyncProperty(spec, spec, async (first, then) => {
      const name = `app-${n++}`;
      const created = await api.call('POST', '/v1/apps', key, { ...sampleApp(name), ...bodyOf(first) });
      expect(created.status, created.text).toBeOneOf([201, 400]);
      if (created.status !== 201) {
        expect((await api.call('GET', `/v1/apps/${name}`, key)).status).toBe(404);
        return;
      }
      taken.creates++;
      expect(created.json).toMatchObject(bodyOf(first));
      const read = await api.call('GET', `/v1/apps/${name}`, key);
      expect(read.json).toEqual(created.json);
      const patch = bodyOf(then);
      const patched = await api.call('PATCH', `/v1/apps/${name}`, key, patch);
      expect(patched.status, patched.text).toBeOneOf([200, 400]);
      if (patched.status === 200) {
        taken.patches++;
        expect(patched.json).toMatchObject(patch);
      }
      const after = await api.call('GET', `/v1/apps/${name}`, key);
      expect(after.json).toEqual(patched.status === 200 ? patched.json : read.json);
    }),
    { numRuns: 300 },
  );
  // The specs reach the deeper checks: most creates are taken, and PATCHes both ways.
  expect(taken.creates).toBeGreaterThan(150);
  expect(taken.patches).toBeGreaterThan(50);
}, 300_000);

it("keeps env vars named as a plain object's own members (constructor, toString, …) as they were set", async () => {
  const api = await localApi();
  const key = (await api.createTenant('acme')).key;
  const names = Object.getOwnPropertyNames(Object.prototype).filter((name) => name !== '__proto__');
  const env = Object.fromEntries(names.map((name, i) => [name, `v${i}`]));
  const created = await api.call('POST', '/v1/apps', key, sampleApp('web', { env }));
  expect(created, created.text).toMatchObject({ status: 201, json: { env } });
  expect((await api.call('GET', '/v1/apps/web', key)).json?.env).toEqual(env);
  expect((await api.call('GET', '/v1/apps/web/revisions/1', key)).json?.env).toEqual(env);
  const changed = { ...env, constructor: 'changed' };
  expect(await api.call('PATCH', '/v1/apps/web', key, { env: changed })).toMatchObject({
    status: 200,
    json: { env: changed },
  });
  expect((await api.call('GET', '/v1/apps/web/revisions/2', key)).json?.env).toEqual(changed);
});
