import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { billedTotals, costMicroUsd, dollars } from '../../functions/core/billing-math.ts';
import { listEveryUsage } from '../../functions/core/walk.ts';
import { meterUsage } from '../../functions/jobs/meter.ts';
import { buildMonthlyReports } from '../../functions/jobs/report.ts';
import { localDeps } from '../../functions/shared/local.ts';
import { BillingLineItem, BillingReport, PriceTable } from '../../schemas/billing.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Docker's own start and die times of an installation's containers, in seconds. */
async function watchLifetimes(docker: Docker, installation: string) {
  const starts = new Map<string, number>();
  const dies = new Map<string, number>();
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['start', 'die'], label: [`berth.installation=${installation}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line) as { Action: string; id: string; timeNano: number };
      (event.Action === 'start' ? starts : dies).set(event.id, event.timeNano / 1e9);
    }
  });
  return { starts, dies, stop: () => stream.destroy() };
}

describe('metering on real containers and DynamoDB Local', () => {
  it('bills Σ cpu × lifetime from Docker’s own timestamps, exactly once through duplicated, skipped and concurrent runs and a restart', async () => {
    const { adminKey, call, createTenant, deps, runtime, wiring, tableName } = await localApiOnDocker();
    const docker = new Docker();
    const lifetimes = await watchLifetimes(docker, tableName);
    const key = (await createTenant('acme')).key;
    const app = async () => (await call('GET', '/v1/apps/web', key)).json;
    const containers = async () =>
      (await runtime.runtime.listReplicas()).filter((r) => r.state === 'running');
    const meter = () => meterUsage({ ...deps, runtime: runtime.runtime });
    try {
      expect((await call('POST', '/v1/apps', key, sampleApp('web', { replicas: 2 }))).status).toBe(201);
      await eventually('2 ready replicas', async () =>
        (await app()).readyReplicas === 2 ? true : undefined,
      );

      await meter();
      await Promise.all([meter(), meter()]); // a duplicated tick, two meters at once
      await sleep(1500); // skipped ticks
      // A restart: a new composition root (a new process's state) over the same table.
      const restarted = localDeps(wiring);
      await meterUsage({ ...restarted, runtime: new DockerRuntime(docker, tableName) });

      expect((await call('POST', '/v1/apps/web/scale', key, { replicas: 1 })).status).toBe(200);
      await eventually('1 replica', async () => ((await containers()).length === 1 ? true : undefined));
      await sleep(1200);
      await Promise.all([meter(), meter()]);
      expect((await call('POST', '/v1/apps/web/stop', key)).status).toBe(202);
      await eventually('no replica', async () =>
        (await runtime.runtime.listReplicas()).length === 0 ? true : undefined,
      );
      await Promise.all([meter(), meter(), meter()]);
      await meter();

      await eventually('every die event', async () =>
        [...lifetimes.starts.keys()].every((id) => lifetimes.dies.has(id)) ? true : undefined,
      );
      const instances = [...lifetimes.starts.entries()].map(
        ([id, start]) => (lifetimes.dies.get(id) ?? 0) - start,
      );
      expect(instances).toHaveLength(2);
      const usage = await listEveryUsage(deps.store, 'acme', '2000-01-01T00', '2100-01-01T00');
      const vcpuSeconds = usage.reduce((n, u) => n + u.vcpuMilliSeconds, 0) / 1000;
      const instanceSeconds = usage.reduce((n, u) => n + u.instanceSeconds, 0);
      const expectedSeconds = instances.reduce((n, s) => n + s, 0);
      expect(Math.abs(instanceSeconds - expectedSeconds)).toBeLessThanOrEqual(instances.length);
      expect(Math.abs(vcpuSeconds - 0.25 * expectedSeconds)).toBeLessThanOrEqual(0.25 * instances.length);
      expect(usage.reduce((n, u) => n + u.memoryMiBSeconds, 0)).toBe(512 * instanceSeconds);
      expect(await deps.meter.listOpenLifetimes('acme')).toEqual([]);

      // Once closed, nothing more is counted.
      await meter();
      const again = await listEveryUsage(deps.store, 'acme', '2000-01-01T00', '2100-01-01T00');
      expect(again.reduce((n, u) => n + u.instanceSeconds, 0)).toBe(instanceSeconds);

      const own = await call('GET', '/v1/usage?granularity=hour', key);
      expect(own.status).toBe(200);
      expect(
        (own.json.rows as { instanceSeconds: number }[]).reduce((n, r) => n + r.instanceSeconds, 0),
      ).toBe(instanceSeconds);
      // One app's rows, for the tenant and the admin alike; a name that is no app's is no row, a malformed one 400.
      expect((await call('GET', '/v1/usage?granularity=hour&app=web', key)).json.rows).toEqual(own.json.rows);
      const admin = await call('GET', '/v1/tenants/acme/usage?granularity=hour&app=web', adminKey);
      expect(admin.json.rows).toEqual(own.json.rows);
      expect((await call('GET', '/v1/usage?app=api', key)).json.rows).toEqual([]);
      expect(await call('GET', '/v1/usage?app=Web!', key)).toMatchObject({
        status: 400,
        json: { code: 'validation.failed', errors: [{ path: 'app' }] },
      });

      // The month's report, stored by the report job, as JSON and CSV: exactly Σ usage × price.
      const period = new Date().toISOString().slice(0, 7);
      expect(await buildMonthlyReports(deps, { period })).toEqual({ built: 1, left: 0 });
      const report = await call('GET', `/v1/billing/reports/${period}`, key);
      const expected = costMicroUsd(billedTotals(usage, deps.prices), deps.prices);
      expect(report.json).toMatchObject({
        tenant: 'acme',
        // The month is not over: its usage may still change.
        status: 'draft',
        priceTable: { version: deps.prices.version },
        lineItems: [{ app: 'web', instanceSeconds, costMicroUsd: expected }],
        total: { instanceSeconds, costMicroUsd: expected, cost: dollars(expected) },
      });
      // Stored as a map, which the table keeps in no order: answered in the schema's, as a draft is.
      expect(Object.keys(report.json)).toEqual(Object.keys(BillingReport.shape));
      for (const [part, schema] of [
        [report.json.priceTable, PriceTable],
        [(report.json.lineItems as unknown[])[0], BillingLineItem],
      ] as const) {
        expect(Object.keys(part as object)).toEqual(Object.keys(schema.shape));
      }
      const csv = await call('GET', `/v1/billing/reports/${period}`, key, undefined, { accept: 'text/csv' });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="berth-${period}-acme.csv"`);
      expect(csv.text).toContain(`acme,${period},draft,${deps.prices.version},TOTAL,`);
      expect(
        csv.text
          .trim()
          .split('\r\n')
          .at(-1)
          ?.endsWith(`,${expected},${dollars(expected)}`),
      ).toBe(true);
      // …and filed for finance next to the data.
      expect(readFileSync(join(wiring.reportsDir, period, 'acme.csv'), 'utf8')).toBe(csv.text);
    } finally {
      lifetimes.stop();
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  });
});
