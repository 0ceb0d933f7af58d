import { describe, expect, it } from 'vitest';
import { dockerCli, labelledContainers } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

type Json = Record<string, unknown>;

const CHECK = {
  path: '/',
  intervalSeconds: 1,
  timeoutSeconds: 1,
  unhealthyThreshold: 2,
  gracePeriodSeconds: 0,
};

type Platform = Awaited<ReturnType<typeof localApiOnDocker>>;

/**
 * Runs `body` on a platform of its own once app `web` (one replica, checked by CHECK) serves, then deletes the app and
 * stops the platform's loop.
 */
async function withLiveApp(body: (platform: Platform & { key: string }) => Promise<void>) {
  const platform = await localApiOnDocker();
  const { call, createTenant, runtime } = platform;
  const key = (await createTenant('acme')).key;
  try {
    expect((await call('POST', '/v1/apps', key, sampleApp('web', { healthCheck: CHECK }))).status).toBe(201);
    await eventually('revision 1 to be live', async () => {
      const app = (await call('GET', '/v1/apps/web', key)).json;
      return app.status === 'running' && app.readyReplicas === 1 ? true : undefined;
    });
    await body({ ...platform, key });
  } finally {
    await call('DELETE', '/v1/apps/web', key);
    await untilAppGone(call, key, 'web');
    await runtime.loop.stop();
  }
}

describe('health checks on Docker Engine', () => {
  it("checks each replica by its own revision's check: a rollout to a check that fails leaves the replica it replaces serving", async () => {
    await withLiveApp(async ({ call, key, runtime, tableName }) => {
      const serving = labelledContainers(tableName, { 'berth.app': 'web' });
      expect(serving).toHaveLength(1);

      // Revision 2 checks a path the image does not serve: its replicas never pass.
      const patched = await call('PATCH', '/v1/apps/web', key, { healthCheck: { ...CHECK, path: '/nope' } });
      expect(patched.status, patched.text).toBe(200);
      const ready = new Set<unknown>();
      await eventually('the rollout to fail and roll back', async () => {
        ready.add((await call('GET', '/v1/apps/web', key)).json.readyReplicas);
        const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
        return events.some((e) => e.type === 'rolledBack') ? true : undefined;
      });
      const [, failed] = (await call('GET', '/v1/apps/web/deployments', key)).json.items as Json[];
      expect(failed).toMatchObject({
        revision: 2,
        status: 'rolled_back',
        reason: expect.stringMatching(/; rolled back to revision 1 \(dep_\w+\)$/),
      });

      // Only revision 2's replicas failed their checks; revision 1's served throughout, in the same container.
      const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
      const unhealthy = events.filter((e) => e.type === 'unhealthy');
      expect(unhealthy.length).toBeGreaterThan(0);
      for (const event of unhealthy) {
        // Why, as the probe saw it: the app's owner learns the path is not served.
        expect(event).toMatchObject({
          message: expect.stringMatching(
            /^replica \d+ failed its health checks \(GET \/nope on port 8080 answered 404\)$/,
          ),
          details: { revision: 2, probe: 'GET /nope on port 8080 answered 404' },
        });
      }
      expect(ready).toEqual(new Set([1]));
      expect(labelledContainers(tableName, { 'berth.app': 'web', 'berth.revision': '1' })).toEqual(serving);
      // The tests' platform has no tick: a pass goes when asked, or when a probe falls due.
      const back = await eventually('the app to run revision 1 again', async () => {
        await runtime.reconciler.reconcileApp('acme', 'web');
        const app = (await call('GET', '/v1/apps/web', key)).json;
        return app.status === 'running' ? app : undefined;
      });
      expect(back).toMatchObject({ currentRevision: 1, healthCheck: { path: '/' } });
      expect(labelledContainers(tableName, { 'berth.app': 'web' })).toEqual(serving);
    });
  }, 120_000);

  it("probes a serving replica at its check's interval between the loop's passes, and replaces one that stops answering", async () => {
    // The tests' platform has no tick: after the app goes live, only the probes falling due bring a pass.
    await withLiveApp(async ({ call, key, tableName }) => {
      const [serving] = labelledContainers(tableName, { 'berth.app': 'web' });
      // The replica stops answering its check: what it served is gone (its server goes on, a 404 for `/`).
      dockerCli().ok(['exec', serving ?? '', 'rm', '/www/index.html']);

      const unhealthy = await eventually(
        'the replica to be found unhealthy',
        async () => {
          const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
          return events.find((e) => e.type === 'unhealthy');
        },
        20_000,
      );
      expect(unhealthy).toMatchObject({
        message: 'replica 0 failed its health checks (GET / on port 8080 answered 404)',
      });
      const replaced = await eventually('a new replica to serve', async () => {
        const app = (await call('GET', '/v1/apps/web', key)).json;
        const containers = labelledContainers(tableName, { 'berth.app': 'web' });
        return app.readyReplicas === 1 && containers.length === 1 && containers[0] !== serving
          ? containers
          : undefined;
      });
      expect(replaced).toHaveLength(1);
    });
  }, 120_000);
});
