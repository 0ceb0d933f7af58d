import { describe, expect, it } from 'vitest';
import { localApi } from '../support/local-api.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('image records on DynamoDB Local', () => {
  it('moves a tag to the digest pushed last, keeps the others, and deletes every image with the repository', async () => {
    const { deps, createTenant } = await localApi();
    const { store } = deps;
    await createTenant('acme');
    const repository = {
      name: 'web',
      uri: 'registry.example/acme/web',
      createdAt: '2026-11-30T00:00:00.000Z',
    };
    expect(await store.createRepository('acme', repository, 100)).toBe(true);
    expect(await store.createRepository('acme', repository, 100)).toBe(false);

    await store.recordImagePush('acme', 'web', {
      digest: digest('a'),
      tags: ['v1', 'latest'],
      pushedAt: '2026-11-30T01:00:00.000Z',
      size: 100,
    });
    await store.recordImagePush('acme', 'web', {
      digest: digest('b'),
      tags: ['latest'],
      pushedAt: '2026-11-30T02:00:00.000Z',
      size: 200,
    });
    // The same digest pushed again under a new tag keeps its old ones.
    await store.recordImagePush('acme', 'web', {
      digest: digest('b'),
      tags: ['v2'],
      pushedAt: '2026-11-30T03:00:00.000Z',
      size: 200,
    });
    // Pushed by digest alone: no tags.
    await store.recordImagePush('acme', 'web', {
      digest: digest('c'),
      tags: [],
      pushedAt: '2026-11-30T00:30:00.000Z',
      size: 300,
    });

    expect(await store.listImages('acme', 'web')).toEqual([
      { digest: digest('b'), tags: ['latest', 'v2'], pushedAt: '2026-11-30T03:00:00.000Z', size: 200 },
      { digest: digest('a'), tags: ['v1'], pushedAt: '2026-11-30T01:00:00.000Z', size: 100 },
      { digest: digest('c'), tags: [], pushedAt: '2026-11-30T00:30:00.000Z', size: 300 },
    ]);
    expect(await store.listImages('beta', 'web')).toEqual([]);
    expect(await store.getRepository('beta', 'web')).toBeUndefined();

    expect(await store.deleteRepository('acme', 'web')).toBe(true);
    expect(await store.deleteRepository('acme', 'web')).toBe(false);
    expect(await store.listImages('acme', 'web')).toEqual([]);
    expect(await store.listRepositories('acme')).toEqual([]);
  });

  it("pages a tenant's repositories by name and a repository's images newest first, cursor after cursor", async () => {
    const { call, createTenant, deps } = await localApi();
    const key = (await createTenant('acme')).key;
    for (const name of ['web', 'api', 'jobs']) {
      expect((await call('POST', '/v1/repositories', key, { name })).status).toBe(201);
    }
    for (const [c, hour] of [
      ['a', '01'],
      ['b', '03'],
      ['c', '02'],
    ] as const) {
      await deps.store.recordImagePush('acme', 'web', {
        digest: digest(c),
        tags: [c],
        pushedAt: `2026-11-30T${hour}:00:00.000Z`,
        size: 1,
      });
    }
    /** Every page of a list, two items at a time: the items' `field`s and each page's length. */
    const walk = async (path: string, field: 'name' | 'digest') => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await call('GET', `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, key);
        expect(page.status, page.text).toBe(200);
        const items = page.json.items as Record<string, string>[];
        seen.push(...items.map((item) => item[field] ?? ''));
        sizes.push(items.length);
        cursor = page.json.nextCursor as string | null;
      } while (cursor);
      return { seen, sizes };
    };
    expect(await walk('/v1/repositories', 'name')).toEqual({ seen: ['api', 'jobs', 'web'], sizes: [2, 1] });
    expect(await walk('/v1/repositories/web/images', 'digest')).toEqual({
      seen: [digest('b'), digest('c'), digest('a')],
      sizes: [2, 1],
    });
    const forged = await call('GET', '/v1/repositories?cursor=not-a-cursor', key);
    expect(forged).toMatchObject({ status: 400, json: { errors: [{ path: 'cursor' }] } });
  });

  it('keeps at most 100 repositories a tenant under parallel creates, and a deleted one frees its place', async () => {
    const { call, createTenant } = await localApi();
    const key = (await createTenant('acme')).key;
    const other = (await createTenant('beta')).key;
    const creates = await Promise.all(
      Array.from({ length: 110 }, (_, i) => call('POST', '/v1/repositories', key, { name: `repo-${i}` })),
    );
    const made = creates.filter((res) => res.status === 201);
    expect(made).toHaveLength(100);
    for (const refused of creates.filter((res) => res.status !== 201)) {
      expect(refused).toMatchObject({
        status: 403,
        json: { code: 'quota.exceeded', detail: 'a tenant may keep 100 repositories; delete one first' },
      });
    }
    const listed = await call('GET', '/v1/repositories?limit=100', key);
    expect(listed.json.items).toHaveLength(100);
    expect(listed.json.nextCursor).toBeNull();
    expect((await call('GET', '/v1/tenant', key)).json.usage).toMatchObject({
      repositories: { used: 100, limit: 100 },
    });
    // Another tenant's count is its own.
    expect((await call('POST', '/v1/repositories', other, { name: 'web' })).status).toBe(201);

    const freed = (made[0]?.json as { name?: string } | undefined)?.name;
    expect((await call('DELETE', `/v1/repositories/${freed}`, key)).status).toBe(204);
    expect((await call('POST', '/v1/repositories', key, { name: 'another' })).status).toBe(201);
    expect((await call('POST', '/v1/repositories', key, { name: 'one-more' })).status).toBe(403);
  });

  it('marks a pending repository made exactly once', async () => {
    const { deps, createTenant } = await localApi();
    const { store } = deps;
    await createTenant('acme');
    const repository = { name: 'web', uri: 'r/acme/web', createdAt: '2026-11-30T00:00:00.000Z' };
    expect(await store.createRepository('acme', { ...repository, pending: true }, 100)).toBe(true);
    expect(await store.listRepositories('acme')).toEqual([{ ...repository, pending: true }]);
    const marks = await Promise.all([
      store.completeRepository('acme', 'web'),
      store.completeRepository('acme', 'web'),
    ]);
    expect(marks.sort()).toEqual([false, true]);
    expect(await store.getRepository('acme', 'web')).toEqual({ ...repository, pending: false });
    expect(await store.completeRepository('acme', 'api')).toBe(false);
    expect(await store.getRepository('acme', 'api')).toBeUndefined();
  });

  it('deletes a repository holding more images than one batch write takes (25)', async () => {
    const { deps, createTenant } = await localApi();
    const { store } = deps;
    await createTenant('acme');
    await store.createRepository(
      'acme',
      { name: 'many', uri: 'r/acme/many', createdAt: '2026-11-30T00:00:00.000Z' },
      100,
    );
    const digests = Array.from({ length: 60 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    for (const d of digests) {
      await store.recordImagePush('acme', 'many', {
        digest: d,
        tags: [],
        pushedAt: '2026-11-30T01:00:00.000Z',
        size: 1,
      });
    }
    expect(await store.listImages('acme', 'many')).toHaveLength(60);
    expect(await store.deleteRepository('acme', 'many')).toBe(true);
    expect(await store.listImages('acme', 'many')).toEqual([]);
  });
});
