import { describe, expect, it } from 'vitest';
import { createApp, deleteApp, getAppRecord, updateApp } from '../../functions/core/apps.ts';
import { WriteConflictError } from '../../functions/core/errors.ts';
import type { AppRecord } from '../../functions/core/ports.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import { localApi, sampleApp } from '../support/local-api.ts';
import { tableCoreDeps } from '../support/table-core-deps.ts';

const PAGE = { limit: 100 };

it("takes a deleted app's revisions and deployments out of the table with it, and keeps its events to expire", async () => {
  const { call, createTenant, deps } = await localApi();
  const key = (await createTenant('acme')).key;
  await call('POST', '/v1/apps', key, sampleApp('web'));
  expect((await call('PATCH', '/v1/apps/web', key, { env: { A: '1' } })).status).toBe(200);
  expect((await call('DELETE', '/v1/apps/web', key)).status).toBe(202);
  const deleting = (await deps.store.getApp('acme', 'web')) as AppRecord;
  const { uid } = deleting;
  expect((await deps.store.listRevisions('acme', uid, PAGE)).items).toHaveLength(2);
  expect((await deps.store.listDeployments('acme', uid, PAGE)).items).toHaveLength(2);

  // What the reconciler does once the app's last replica is gone.
  await deps.store.finalizeAppDeletion(deleting);
  expect(await deps.store.getApp('acme', 'web')).toBeUndefined();
  expect(await deps.store.listRevisions('acme', uid, PAGE)).toEqual({ items: [], nextCursor: null });
  expect(await deps.store.listDeployments('acme', uid, PAGE)).toEqual({ items: [], nextCursor: null });
  expect((await deps.store.listAppEvents('acme', uid, PAGE)).items.map((e) => e.type)).toContain('deleting');
  expect(await deps.store.getTenant('acme')).toMatchObject({
    reserved: { apps: 0, vcpuMilli: 0, memoryMiB: 0 },
  });
  // Another reconciler's finalizing of the same read, late: refused, and the tenant's reservation lowered once.
  await expect(deps.store.finalizeAppDeletion(deleting)).rejects.toThrow(WriteConflictError);
  expect(await deps.store.getTenant('acme')).toMatchObject({
    reserved: { apps: 0, vcpuMilli: 0, memoryMiB: 0 },
  });
});

/** Core deps over the core tests' in-memory store, and over a fresh table of DynamoDB Local. */
const stores = [
  ["in the core tests' in-memory store", fakeCoreDeps],
  ['on DynamoDB Local', tableCoreDeps],
] as const;

describe.each(stores)('a late finalizing of a deleted app, %s', (_, made) => {
  it('leaves an app made again under its name to itself', async () => {
    const deps = await made();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await deleteApp(deps, 'acme', 'web');
    const deleting = await getAppRecord(deps, 'acme', 'web');
    await deps.store.finalizeAppDeletion(deleting);
    // Made again under its name, and changed until it stands at the version the deleted one was finalized at.
    await createApp(deps, 'acme', { name: 'web', ...spec });
    for (let i = 1; i < deleting.version; i++)
      await updateApp(deps, 'acme', 'web', { env: { N: String(i) } });
    const again = await getAppRecord(deps, 'acme', 'web');
    expect(again.version).toBe(deleting.version);

    // A reconciler that read the deleted app before its lease ran out finalizes it once more.
    await expect(deps.store.finalizeAppDeletion(deleting)).rejects.toThrow(WriteConflictError);
    expect(await deps.store.getApp('acme', 'web')).toEqual(again);
    expect((await deps.store.listRevisions('acme', again.uid, PAGE)).items).toHaveLength(deleting.version);
    expect(await deps.store.getTenant('acme')).toMatchObject({
      reserved: { apps: 1, vcpuMilli: 250, memoryMiB: 512 },
    });
  });
});
