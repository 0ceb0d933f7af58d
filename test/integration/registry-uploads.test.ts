import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localApi, NOWHERE, startLocalApiRegistry } from '../support/local-api.ts';
import { registryHttp } from '../support/registry-http.ts';
import { workerPort } from '../support/worker-port.ts';

describe('the local registry after a push was interrupted (DynamoDB Local, the distribution registry)', () => {
  let registry: { stop(): Promise<void> } | undefined;
  afterEach(async () => {
    await registry?.stop();
    registry = undefined;
  });

  it('frees the layers it was sent of pushes left unfinished at its next start, and keeps the images pushed', async () => {
    const registryPort = await workerPort();
    const setup = await localApi({ registryPort });
    registry = await startLocalApiRegistry(setup);
    const { key } = await setup.createTenant('acme');
    expect((await setup.call('POST', '/v1/repositories', key, { name: 'web' })).status).toBe(201);
    const bearer = setup.deps.registryAuth.tokens.issue(
      'acme',
      [{ type: 'repository', name: 'acme/web', actions: ['pull', 'push'] }],
      600,
    );
    const base = `http://127.0.0.1:${registryPort}/v2/acme/web`;
    const authorization = `Bearer ${bearer}`;
    const pushed = await registryHttp({
      api: NOWHERE,
      registry: `127.0.0.1:${registryPort}`,
      username: '',
      password: '',
    }).push('acme/web', '1', bearer);
    // A layer's upload begun and sent part of, twice, as docker's retries of a push that fails midway do.
    const unfinished: string[] = [];
    for (let retry = 0; retry < 2; retry++) {
      const begun = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: { authorization } });
      expect(begun.status).toBe(202);
      const location = new URL(begun.headers.get('location') ?? '', base).href;
      const part = await fetch(location, {
        method: 'PATCH',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(1024 * 1024, retry),
      });
      expect(part.status).toBe(202);
      unfinished.push(new URL(part.headers.get('location') ?? '', base).href);
    }
    const uploadsDir = join(
      setup.wiring.registry.dir,
      'data/docker/registry/v2/repositories/acme/web/_uploads',
    );
    expect(readdirSync(uploadsDir)).toHaveLength(2);

    await registry.stop();
    registry = await startLocalApiRegistry(setup);

    expect(readdirSync(uploadsDir)).toEqual([]);
    for (const location of unfinished) {
      const res = await fetch(location, { headers: { authorization } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
    }
    expect(await setup.deps.registry.imageAt('acme/web', '1')).toMatchObject({ digest: pushed });
  }, 60_000);
});
