import { describe, expect, it } from 'vitest';
import { createApi } from '../../../functions/http/api.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { clientFor, sampleApp } from '../../support/local-api.ts';

async function setup() {
  const { deps, adminKey } = await fakeApiDeps();
  const client = clientFor(createApi(deps), adminKey);
  const first = await client.createTenant('acme');
  const named = await client.call('POST', '/v1/keys', first.key, { name: 'CI deploys' });
  const ci = named.json as { id: string; key: string };
  return { deps, first, ci, ...client };
}

describe('who made each change', () => {
  it('is the key that asked for a deployment, named as it was then, whichever change made it', async () => {
    const { call, first, ci } = await setup();
    const byCi = { keyId: ci.id, keyName: 'CI deploys' };
    const byFirst = { keyId: first.id, keyName: null };
    await call('POST', '/v1/apps', ci.key, sampleApp('web'));
    await call('PATCH', '/v1/apps/web', first.key, { env: { A: '1' } });
    await call('POST', '/v1/apps/web/deployments', ci.key, { env: { A: '2' } });
    await call('POST', '/v1/apps/web/rollback', first.key, { revision: 1 });
    // Stopped before revision 4 (the rollback's) went live: the start deploys it anew.
    await call('POST', '/v1/apps/web/stop', first.key);
    await call('POST', '/v1/apps/web/start', ci.key);
    // A key revoked since still names its deployments.
    expect((await call('DELETE', `/v1/keys/${ci.id}`, first.key)).status).toBe(204);
    const listed = await call('GET', '/v1/apps/web/deployments', first.key);
    const deployments = (listed.json as { items: { trigger: string; createdBy: unknown }[] }).items;
    expect(deployments.map(({ trigger, createdBy }) => [trigger, createdBy])).toEqual([
      ['start', byCi],
      ['rollback', byFirst],
      ['deploy', byCi],
      ['update', byFirst],
      ['create', byCi],
    ]);
  });

  it('is none for a deployment recorded before Berth recorded who made it', async () => {
    const { deps, call, first } = await setup();
    await call('POST', '/v1/apps', first.key, sampleApp('web'));
    for (const deployment of deps.store.deployments.values())
      delete (deployment as { createdBy?: unknown }).createdBy;
    const [deployment] = (
      (await call('GET', '/v1/apps/web/deployments', first.key)).json as { items: { createdBy: unknown }[] }
    ).items;
    expect(deployment?.createdBy).toBeNull();
  });

  it('is in the details of each event a key’s change makes, as `by`', async () => {
    const { deps, call, first, ci } = await setup();
    const byCi = { keyId: ci.id, keyName: 'CI deploys' };
    const byFirst = { keyId: first.id, keyName: null };
    await call('POST', '/v1/apps', ci.key, sampleApp('web'));
    const uid = (await deps.store.getApp('acme', 'web'))?.uid;
    await call('POST', '/v1/apps/web/scale', first.key, { replicas: 2 });
    await call('PATCH', '/v1/apps/web', ci.key, { replicas: 3 });
    await call('POST', '/v1/apps/web/restart', first.key);
    await call('POST', '/v1/apps/web/stop', ci.key);
    await call('POST', '/v1/apps/web/start', first.key);
    await call('DELETE', '/v1/apps/web', ci.key);
    const events = deps.store.events.filter((event) => event.appUid === uid);
    expect(events.map((event) => [event.type, event.details?.by])).toEqual([
      ['deploying', byCi],
      ['scaled', byFirst],
      ['scaled', byCi],
      ['restarted', byFirst],
      ['stopped', byCi],
      ['started', byFirst],
      ['deleting', byCi],
    ]);
  });
});
