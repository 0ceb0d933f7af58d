import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { WARM_UP_MS } from '../../functions/core/autoscale.ts';
import { autoscale } from '../../functions/jobs/autoscale.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

const WINDOW_SECONDS = 6;
const TICK_MS = 1000;
/** Burns a CPU while /tmp/burn exists, and serves its hostname. */
const BURNER = [
  'sh',
  '-c',
  'mkdir -p /tmp; touch /tmp/burn; (while [ -f /tmp/burn ]; do :; done) & mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www',
];

type Json = Record<string, unknown>;

describe('autoscaling on real containers', () => {
  it('scales out within two ticks under CPU load, never past max, and back in only after the window', async () => {
    const { call, createTenant, deps, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    const docker = { runtime: runtime.runtime, metrics: runtime.runtime };
    // The job's clock runs ahead by more than a warm-up, so that each replica's load counts from its start.
    const clock = { now: () => new Date(Date.now() + 2 * WARM_UP_MS) };
    const tick = () => autoscale({ ...deps, clock, views: { docker } });
    const replicas = async () => ((await call('GET', '/v1/apps/web', key)).json as Json).replicas as number;
    const seen: number[] = [];
    try {
      const created = await call(
        'POST',
        '/v1/apps',
        key,
        sampleApp('web', {
          command: BURNER,
          scaling: { min: 1, max: 3, targetCpuPercent: 50, scaleInStabilizationSeconds: WINDOW_SECONDS },
        }),
      );
      expect(created.status, created.text).toBe(201);
      await eventually('1 ready replica', async () =>
        ((await call('GET', '/v1/apps/web', key)).json as Json).readyReplicas === 1 ? true : undefined,
      );

      await tick();
      await tick();
      seen.push(await replicas());
      expect(seen[0]).toBeGreaterThan(1);

      // Keep ticking under load: it reaches max and stays there.
      for (let i = 0; i < 6; i++) {
        await tick();
        seen.push(await replicas());
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      expect(Math.max(...seen)).toBe(3);
      await eventually('3 running replicas', async () =>
        (await runtime.runtime.listReplicas()).filter((r) => r.state === 'running').length === 3
          ? true
          : undefined,
      );

      // The load stops.
      const docker = new Docker();
      for (const replica of await runtime.runtime.listReplicas()) {
        const exec = await docker.getContainer(replica.id).exec({ Cmd: ['rm', '-f', '/tmp/burn'] });
        await exec.start({});
      }
      const stoppedAt = Date.now();
      let scaledInAt: number | undefined;
      while (Date.now() - stoppedAt < (WINDOW_SECONDS + 20) * 1000) {
        await tick();
        const now = await replicas();
        seen.push(now);
        if (now < 3) {
          scaledInAt = Date.now();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      expect(scaledInAt).toBeDefined();
      // The last high recommendation came at most one tick before the load stopped.
      expect((scaledInAt ?? 0) - stoppedAt).toBeGreaterThanOrEqual((WINDOW_SECONDS - 1) * 1000 - TICK_MS);
      expect(Math.max(...seen)).toBeLessThanOrEqual(3);

      const events = ((await call('GET', '/v1/apps/web/events', key)).json.items as Json[]).filter(
        (e) => e.type === 'scaled',
      );
      const scaleIn = events[0];
      expect(scaleIn?.details).toMatchObject({
        from: 3,
        reason: 'scale in after the stabilization window',
        targetCpuPercent: 50,
        stabilizationSeconds: WINDOW_SECONDS,
        max: 3,
      });
      expect(events.at(-1)).toMatchObject({
        message: expect.stringMatching(
          /^autoscaled from 1 to \d replicas: scale out \(CPU at \d+ %, target 50 %\)$/,
        ),
        details: { from: 1, reason: 'scale out', cpuPercent: expect.any(Number) },
      });
      expect((events.at(-1)?.details as { cpuPercent?: number } | undefined)?.cpuPercent).toBeGreaterThan(55);
      // Under load at 3, max held it back at every tick until the load stopped: said once (by the scale that reached
      // it, or a `scaleOutHeld`), not at every tick.
      const told = (await call('GET', '/v1/apps/web/events?limit=100', key)).json.items as Json[];
      expect(told.filter((e) => String(e.message).includes('wanted but the maximum is 3'))).toHaveLength(1);
    } finally {
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  }, 120_000);

  it('leaves a replica that burns CPU in its warm-up out of the figures: nothing scales', async () => {
    const { call, createTenant, deps, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    const tick = () =>
      autoscale({ ...deps, views: { docker: { runtime: runtime.runtime, metrics: runtime.runtime } } });
    try {
      const created = await call(
        'POST',
        '/v1/apps',
        key,
        sampleApp('web', { command: BURNER, scaling: { min: 1, max: 3, targetCpuPercent: 50 } }),
      );
      expect(created.status, created.text).toBe(201);
      await eventually('1 ready replica', async () =>
        ((await call('GET', '/v1/apps/web', key)).json as Json).readyReplicas === 1 ? true : undefined,
      );
      const [burning] = await runtime.runtime.listReplicas();
      if (!burning) throw new Error('no replica');
      await eventually('its stats show the burn', async () => {
        const { stats } = await runtime.runtime.replicaStats([burning]);
        return (stats.get(burning.id)?.cpuPercent ?? 0) > 55 ? true : undefined;
      });
      for (let i = 0; i < 3; i++) await tick();
      expect((await call('GET', '/v1/apps/web', key)).json).toMatchObject({ replicas: 1 });
      const told = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
      expect(told.filter((e) => e.type === 'scaled' || e.type === 'scaleOutHeld')).toEqual([]);
    } finally {
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  }, 120_000);
});
