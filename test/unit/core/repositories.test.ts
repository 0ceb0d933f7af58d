import { beforeEach, describe, expect, it } from 'vitest';
import { createApp, updateApp } from '../../../functions/core/apps.ts';
import { createRepository, deleteRepository } from '../../../functions/core/repositories.ts';
import { createTenant, updateTenant } from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const spec = { cpu: 0.25, memory: 512, port: 8080 };

describe('deleting a repository', () => {
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>>;
  beforeEach(async () => {
    deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    await createRepository(deps, 'acme', 'web');
    await createRepository(deps, 'acme', 'api');
    deps.registry.digests.set('acme/web:1', 'sha256:one');
    deps.registry.digests.set('acme/api:1', 'sha256:two');
  });

  it('refuses while an app runs or is moving to an image from it, and deletes it once none does', async () => {
    await createApp(deps, 'acme', { name: 'site', ...spec, image: '127.0.0.1:5000/acme/web:1' });
    await expect(deleteRepository(deps, 'acme', 'web')).rejects.toMatchObject({ code: 'repository.inUse' });
    // Revision 1 serves; revision 2 takes its image from elsewhere, and the app has not left revision 1 yet.
    const running = deps.store.apps.get('acme/site');
    if (!running) throw new Error('no app');
    running.currentRevision = 1;
    await updateApp(deps, 'acme', 'site', { image: '127.0.0.1:5000/acme/api:1' });
    expect(await deps.store.getApp('acme', 'site')).toMatchObject({ latestRevision: 2, currentRevision: 1 });
    await expect(deleteRepository(deps, 'acme', 'web')).rejects.toMatchObject({ code: 'repository.inUse' });
    await expect(deleteRepository(deps, 'acme', 'api')).rejects.toMatchObject({ code: 'repository.inUse' });
    // Revision 2 serves now: revision 1's repository is free.
    const moved = deps.store.apps.get('acme/site');
    if (!moved) throw new Error('no app');
    moved.currentRevision = 2;
    await deleteRepository(deps, 'acme', 'web');
    expect(await deps.store.getRepository('acme', 'web')).toBeUndefined();
  });

  it('deletes an unused repository, then answers 404 for it', async () => {
    await createApp(deps, 'acme', { name: 'site', ...spec, image: '127.0.0.1:5000/acme/api:1' });
    await deleteRepository(deps, 'acme', 'web');
    expect(await deps.store.getRepository('acme', 'web')).toBeUndefined();
    await expect(deleteRepository(deps, 'acme', 'web')).rejects.toMatchObject({
      code: 'repository.notFound',
    });
    // The registry's other name (localhost for 127.0.0.1) is the same repository.
    await createRepository(deps, 'acme', 'web');
    deps.registry.digests.set('acme/web:1', 'sha256:one');
    await createApp(deps, 'acme', { name: 'alias', ...spec, image: 'localhost:5000/acme/web:1' });
    await expect(deleteRepository(deps, 'acme', 'web')).rejects.toMatchObject({ code: 'repository.inUse' });
    // A repository whose name only starts like another's is not the other's.
    await createRepository(deps, 'acme', 'ap');
    await deleteRepository(deps, 'acme', 'ap');
  });
});

describe('creating a repository', () => {
  it('takes it back when the tenant is suspended meanwhile (as its deletion begins), leaving nothing behind', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    const create = deps.registry.createRepository.bind(deps.registry);
    deps.registry.createRepository = async (tenantId, name) => {
      const made = await create(tenantId, name);
      await updateTenant(deps, tenantId, { status: 'suspended' });
      return made;
    };
    await expect(createRepository(deps, 'acme', 'web')).rejects.toMatchObject({ code: 'tenant.suspended' });
    expect(await deps.store.listRepositories('acme')).toEqual([]);
  });
});
