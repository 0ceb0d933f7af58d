import { describe, expect, it } from 'vitest';
import { labelledContainers } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp } from '../support/local-api.ts';

type Json = Record<string, unknown>;

describe('rollbacks on Docker Engine', () => {
  it('rolls a crashing revision back to the first, which serves though its deployment was superseded before it went live', async () => {
    const { call, createTenant, runtime, tableName } = await localApiOnDocker();
    // Passes go only when the test asks: none sees revision 1 go live before revision 2 is deployed.
    await runtime.loop.stop();
    const pass = () => runtime.reconciler.reconcileApp('acme', 'web');
    const key = (await createTenant('acme')).key;
    try {
      expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
      await pass(); // revision 1's replica starts
      const first = labelledContainers(tableName, { 'berth.app': 'web', 'berth.revision': '1' });
      expect(first).toHaveLength(1);
      const patched = await call('PATCH', '/v1/apps/web', key, { command: ['sh', '-c', 'exit 3'] });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json).toMatchObject({ targetRevision: 2, currentRevision: null });

      await eventually('revision 2 to fail and roll back', async () => {
        await pass();
        const events = (await call('GET', '/v1/apps/web/events', key)).json.items as Json[];
        return events.some((e) => e.type === 'rolledBack') ? true : undefined;
      });
      const deployments = (await call('GET', '/v1/apps/web/deployments', key)).json.items as Json[];
      expect(deployments).toMatchObject([
        { revision: 1, trigger: 'rollback' },
        {
          revision: 2,
          status: 'rolled_back',
          reason: expect.stringMatching(
            /the last exited with code 3; rolled back to revision 1 \(dep_\w+\)$/,
          ),
        },
        { revision: 1, status: 'superseded' },
      ]);
      const back = await eventually('the app to run revision 1', async () => {
        await pass();
        const app = (await call('GET', '/v1/apps/web', key)).json;
        return app.status === 'running' ? app : undefined;
      });
      expect(back).toMatchObject({ targetRevision: 1, currentRevision: 1, readyReplicas: 1 });
      // Revision 1's replica served throughout, in the same container.
      expect(labelledContainers(tableName, { 'berth.app': 'web' })).toEqual(first);
    } finally {
      await call('DELETE', '/v1/apps/web', key);
      await eventually('app web to be gone', async () => {
        await pass();
        return (await call('GET', '/v1/apps/web', key)).status === 404 ? true : undefined;
      });
    }
  }, 120_000);
});
