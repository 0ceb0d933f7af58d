import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import type { ReplicaSpec } from '../../functions/core/ports.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

describe('replicas on a Docker Engine that other installations and containers share', () => {
  it('are listed for their installation only, by tenant and app as asked', async () => {
    const docker = new Docker();
    const mine = new DockerRuntime(docker, `t-${randomUUID()}`);
    const theirs = new DockerRuntime(docker, `t-${randomUUID()}`);
    const spec = (tenantId: string, app: string, appUid: string): ReplicaSpec => ({
      ...WEB_REPLICA,
      tenantId,
      app,
      appUid,
      image: inject('testImage'),
      command: ['sleep', '600'],
    });
    const web = spec('acme', 'web', 'app_0mx4gr51j0000000000000001');
    const api = spec('acme', 'api', 'app_0mx4gr51j0000000000000002');
    const globex = spec('globex', 'web', 'app_0mx4gr51j0000000000000003');
    const started = [];
    // A container that is no one's replica, and the same app's replica in another installation.
    const stranger = await docker.createContainer({ Image: inject('testImage'), Cmd: ['sleep', '600'] });
    try {
      for (const s of [web, api, globex])
        started.push({ runtime: mine, id: (await mine.startReplica(s)).id });
      started.push({ runtime: theirs, id: (await theirs.startReplica(web)).id });
      const [webId, apiId, globexId, theirsId] = started.map((s) => s.id);
      const listed = async (filter?: { tenantId?: string; appUid?: string }, runtime = mine) =>
        (await runtime.listReplicas(filter)).map((r) => r.id).sort();
      expect(await listed()).toEqual([webId, apiId, globexId].sort());
      expect(await listed({ tenantId: 'acme' })).toEqual([webId, apiId].sort());
      expect(await listed({ tenantId: 'acme', appUid: api.appUid })).toEqual([apiId]);
      expect(await listed({ appUid: globex.appUid })).toEqual([globexId]);
      expect(await listed({ tenantId: 'initech' })).toEqual([]);
      expect(await listed({}, theirs)).toEqual([theirsId]);
    } finally {
      for (const { runtime, id } of started) await runtime.removeReplica(id);
      await stranger.remove({ force: true });
    }
  });
});
