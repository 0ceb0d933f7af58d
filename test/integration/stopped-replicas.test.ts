import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ensureDockerEngine } from '../../functions/local/docker-engine.ts';
import { type ReplicaEventHandlers, watchDockerEvents } from '../../functions/local/docker-events.ts';
import { labelledContainers } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

type Json = Record<string, unknown>;

/** The first `replicaExited` event of `app`, once there is one. */
const firstExit = (call: Awaited<ReturnType<typeof localApiOnDocker>>['call'], key: string, app: string) =>
  eventually('a replica to exit', async () => {
    const events = (await call('GET', `/v1/apps/${app}/events`, key)).json.items as Json[];
    return events.find((e) => e.type === 'replicaExited');
  });

/** Docker's events of an installation's replicas, watched and told to `handlers` as `npm start` does (main.ts). */
const watchEvents = (installation: string, handlers: ReplicaEventHandlers) =>
  watchDockerEvents(new Docker(), installation, handlers, () => ensureDockerEngine(tmpdir()));

describe('stopped replicas on Docker Engine', () => {
  it('shows a replaced replica as stopping through its grace, then stopped, while its successor serves', async () => {
    const { call, createTenant, runtime, tableName } = await localApiOnDocker({ stopGraceSeconds: 6 });
    const key = (await createTenant('acme')).key;
    // The engine's signals of Berth's own stop (SIGTERM, then SIGKILL at the end of the grace) are told to it too.
    const watching = await watchEvents(tableName, runtime.replicaEvents);
    // A server that ignores SIGTERM, as a slow one finishing its requests would: its stop takes the whole grace.
    const command = [
      'sh',
      '-c',
      "trap '' TERM; mkdir -p /www; echo hi > /www/index.html; httpd -f -p 8080 -h /www",
    ];
    const instances = async () => (await call('GET', '/v1/apps/web/instances', key)).json.items as Json[];
    try {
      const app = sampleApp('web', { command, replicas: 1, healthCheck: { path: '/' } });
      expect((await call('POST', '/v1/apps', key, app)).status).toBe(201);
      const [first] = await eventually('a healthy replica', async () => {
        const items = await instances();
        return items[0]?.health === 'healthy' ? items : undefined;
      });
      const patched = await call('PATCH', '/v1/apps/web', key, { env: { V: '2' } });
      expect(patched.status, patched.text).toBe(200);
      const leaving = await eventually('the first replica to be stopping', async () =>
        (await instances()).find((i) => i.id === first?.id && i.health === 'stopping'),
      );
      expect(leaving).toMatchObject({ revision: 1, state: 'running', exitCode: null });
      const after = await eventually('the first replica to have stopped', async () => {
        const items = await instances();
        return items.some((i) => i.id === first?.id && i.health === 'stopped') ? items : undefined;
      });
      expect(after.filter((i) => i.state === 'running')).toMatchObject([{ revision: 2, health: 'healthy' }]);
      const stopped = after.find((i) => i.id === first?.id);
      expect(stopped).toMatchObject({ exitCode: 137, exitReason: null });
      const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
      expect(events.filter((e) => e.type === 'replicaRemoved' || e.type === 'replicaExited')).toEqual([]);
    } finally {
      await watching.stop();
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  }, 120_000);

  it("keeps a crashed replica's exit code and last log lines in view after its container is gone", async () => {
    const { call, createTenant, runtime, tableName } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    try {
      const created = await call(
        'POST',
        '/v1/apps',
        key,
        // 150 lines of output, then (a second later, so that the engine reads it last) its error on stderr.
        sampleApp('web', {
          command: [
            'sh',
            '-c',
            'seq 1 150 | sed "s/^/line /"; sleep 1; echo "cannot reach the database" >&2; exit 3',
          ],
        }),
      );
      expect(created.status, created.text).toBe(201);
      const failed = await eventually('the deployment to fail', async () => {
        const [latest] = (await call('GET', '/v1/apps/web/deployments', key)).json.items as Json[];
        return latest?.status === 'failed' ? latest : undefined;
      });
      expect(failed.reason).toBe('3 replicas failed (circuit breaker at 3); the last exited with code 3');
      // Docker no longer has them: every replica that crashed was removed.
      await eventually('no container left', async () =>
        labelledContainers(tableName, { 'berth.app': 'web' }).length === 0 ? true : undefined,
      );

      const instances = (await call('GET', '/v1/apps/web/instances', key)).json.items as Json[];
      expect(instances.length).toBeGreaterThanOrEqual(3);
      for (const instance of instances) {
        expect(instance).toMatchObject({ state: 'exited', health: 'stopped', exitCode: 3, exitReason: null });
      }
      const logs = await call('GET', '/v1/apps/web/logs?tail=1', key);
      const lines = logs.text.trim().split('\n');
      expect(lines).toHaveLength(instances.length);
      for (const line of lines) expect(line).toMatch(/^[0-9a-f]{12} \S+Z cannot reach the database$/);
      // The last 100 lines of each are kept, however many are asked for: of its 151, from `line 52` to its error.
      const kept = (await call('GET', '/v1/apps/web/logs?tail=1000', key)).text.trim().split('\n');
      expect(kept).toHaveLength(instances.length * 100);
      expect(kept.filter((line) => line.endsWith(' line 52'))).toHaveLength(instances.length);
      expect(kept.filter((line) => line.endsWith(' line 51'))).toHaveLength(0);
      const later = new Date(Date.now() + 60_000).toISOString();
      expect((await call('GET', `/v1/apps/web/logs?since=${later}`, key)).text).toBe('');
      // A date means its midnight UTC.
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect((await call('GET', `/v1/apps/web/logs?tail=1&since=${yesterday}`, key)).text).toBe(logs.text);
      expect((await call('GET', '/v1/apps/web/logs?since=yesterday', key)).json).toMatchObject({
        code: 'validation.failed',
        errors: [
          {
            path: 'since',
            message: 'must be an ISO-8601 timestamp, a date, or a duration such as "10m"',
          },
        ],
      });
    } finally {
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  }, 120_000);

  it.each([
    {
      done: 'removed',
      outside: (container: Docker.Container) => container.remove({ force: true }),
      told: 'replica 0 is gone: it was removed outside Berth',
    },
    {
      done: 'paused',
      outside: (container: Docker.Container) => container.pause(),
      told: 'replica 0 was paused outside Berth: Berth removed it',
    },
    {
      done: 'stopped',
      outside: (container: Docker.Container) => container.stop({ t: 1 }),
      told: 'replica 0 was stopped outside Berth: the engine sent its container SIGTERM (docker stop or kill, or the engine shutting down)',
    },
  ])(
    'replaces a replica whose container was $done behind its back, and says so',
    async ({ outside, told }) => {
      const { call, createTenant, runtime, tableName } = await localApiOnDocker();
      const key = (await createTenant('acme')).key;
      // Docker's events, watched as the platform watches them: what was done is seen by them alone.
      const watching = await watchEvents(tableName, runtime.replicaEvents);
      try {
        expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
        await eventually('the replica to be ready', async () =>
          (await call('GET', '/v1/apps/web', key)).json.readyReplicas === 1 ? true : undefined,
        );
        const [id] = labelledContainers(tableName, { 'berth.app': 'web' });
        await outside(new Docker().getContainer(id ?? ''));
        const events = await eventually('it to be told', async () => {
          const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
          return events.some((e) => e.type === 'replicaRemoved') ? events : undefined;
        });
        const removed = events.find((e) => e.type === 'replicaRemoved');
        expect(removed).toMatchObject({ message: told, details: { replica: id, revision: 1 } });
        // Nothing of the app's own failed.
        expect(events.filter((e) => e.type === 'replicaExited')).toEqual([]);
        await eventually('another replica to serve', async () => {
          const instances = (await call('GET', '/v1/apps/web/instances', key)).json.items as Json[];
          return instances.find((i) => i.id !== id && i.state === 'running' && i.health === 'healthy');
        });
        expect(labelledContainers(tableName, { 'berth.app': 'web' })).not.toContain(id);
      } finally {
        await watching.stop();
        await call('DELETE', '/v1/apps/web', key);
        await untilAppGone(call, key, 'web');
        await runtime.loop.stop();
      }
    },
    120_000,
  );

  it('says a replica the kernel killed for its memory exited OOMKilled', async () => {
    const { call, createTenant, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    try {
      // A 700 MB buffer, over the app's 512 MiB: the kernel kills dd as it fills it.
      const hog = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=700M', 'count=1'];
      const created = await call('POST', '/v1/apps', key, sampleApp('hog', { command: hog, memory: 512 }));
      expect(created.status, created.text).toBe(201);
      expect(await firstExit(call, key, 'hog')).toMatchObject({
        message: 'replica 0 exited with code 137 (OOMKilled)',
        details: { exitCode: 137, reason: 'OOMKilled' },
      });
      // Its container is removed after the event, and then kept in view with why it exited.
      const stopped = await eventually('the stopped replica in view', async () => {
        const instances = (await call('GET', '/v1/apps/hog/instances', key)).json.items as Json[];
        return instances.find((i) => i.state === 'exited');
      });
      expect(stopped).toMatchObject({ exitCode: 137, exitReason: 'OOMKilled' });
    } finally {
      await call('DELETE', '/v1/apps/hog', key);
      await untilAppGone(call, key, 'hog');
      await runtime.loop.stop();
    }
  }, 120_000);

  it('says what an exit code means by convention where Docker gives no reason: a command the image lacks', async () => {
    const { call, createTenant, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    try {
      const created = await call(
        'POST',
        '/v1/apps',
        key,
        sampleApp('typo', { command: ['/bin/htpd', '-f'] }),
      );
      expect(created.status, created.text).toBe(201);
      expect(await firstExit(call, key, 'typo')).toMatchObject({
        message: 'replica 0 exited with code 127 (command not found)',
        details: { exitCode: 127 },
      });
    } finally {
      await call('DELETE', '/v1/apps/typo', key);
      await untilAppGone(call, key, 'typo');
      await runtime.loop.stop();
    }
  }, 120_000);

  it.each([
    {
      what: 'whose start failed, which Docker keeps "created" with the reason (as an engine going down leaves them)',
      startFails: true,
      event: /^replica 0 exited with code 128 \(.*address already in use\)$/,
    },
    {
      what: 'created but never started (its platform died between the two)',
      startFails: false,
      event: /^replica 0 exited \(never started\)$/,
    },
  ])(
    'replaces a replica $what',
    async ({ startFails, event }) => {
      const { call, createTenant, runtime, tableName } = await localApiOnDocker();
      const key = (await createTenant('acme')).key;
      const docker = new Docker();
      const taken = createServer();
      try {
        expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
        const ready = async () =>
          (await call('GET', '/v1/apps/web', key)).json.readyReplicas === 1 ? true : undefined;
        await eventually('the replica to be ready', ready);
        // From here the test runs the passes itself.
        await runtime.loop.stop();

        // The replica's container, swapped for one in its slot that does not run: either its start fails (its host
        // port is taken) or it is never asked.
        const [id] = labelledContainers(tableName, { 'berth.app': 'web' });
        const original = await docker.getContainer(id ?? '').inspect();
        await docker.getContainer(original.Id).remove({ force: true });
        taken.listen(0, '0.0.0.0');
        await once(taken, 'listening');
        const port = (taken.address() as AddressInfo).port;
        const husk = await docker.createContainer({
          name: original.Name.slice(1),
          Image: original.Config.Image,
          Labels: original.Config.Labels,
          ExposedPorts: { '8080/tcp': {} },
          HostConfig: { PortBindings: { '8080/tcp': [{ HostPort: String(port) }] } },
        });
        if (startFails) {
          await expect(husk.start()).rejects.toThrow(/address already in use/);
          expect((await husk.inspect()).State).toMatchObject({ Status: 'created', ExitCode: 128 });
        }

        await eventually('a pass to replace it', async () => {
          await runtime.reconciler.reconcileApp('acme', 'web');
          return ready();
        });
        expect(labelledContainers(tableName, { 'berth.app': 'web' })).not.toContain(husk.id);
        const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
        expect(events.find((e) => e.type === 'replicaExited')).toMatchObject({
          message: expect.stringMatching(event),
        });
      } finally {
        taken.close();
        await runtime.loop.stop();
        await call('DELETE', '/v1/apps/web', key);
        await eventually('the app to be gone', async () => {
          await runtime.reconciler.reconcileApp('acme', 'web');
          return (await call('GET', '/v1/apps/web', key)).status === 404 ? true : undefined;
        });
      }
    },
    120_000,
  );
});
