import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DynamoStore } from '../../functions/adapters/dynamodb/store.ts';
import { issueTenantKey, revokeTenantKey } from '../../functions/core/api-keys.ts';
import { createApp, deleteApp, scaleApp, startApp, stopApp } from '../../functions/core/apps.ts';
import { deploy } from '../../functions/core/deployments.ts';
import { ConflictError, QuotaExceededError } from '../../functions/core/errors.ts';
import { createPlan } from '../../functions/core/plans.ts';
import { deleteRepository } from '../../functions/core/repositories.ts';
import { createTenant, getTenantOverview, updateTenant } from '../../functions/core/tenants.ts';
import { tableCoreDeps } from '../support/table-core-deps.ts';

/** What DynamoDB takes as writes. */
const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem'];

/**
 * DynamoDB Local behind a proxy that loses the answers to writes: to the next of the kinds it is told (`PutItem`,
 * `UpdateItem`, …), or to every `n`th write from now. The write is carried out, and the client's connection closed
 * before the answer reaches it, as a dropped connection or a timed-out try does.
 */
async function losingAnswers(endpoint: string) {
  let lose: string[] = [];
  let every = { n: 0, writes: 0 };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) =>
        typeof value === 'string' ? [[name, value]] : [],
      ),
    );
    const answer = await fetch(endpoint, { method: 'POST', headers, body: Buffer.concat(chunks) });
    const body = Buffer.from(await answer.arrayBuffer());
    const operation = String(req.headers['x-amz-target']).split('.').pop() ?? '';
    if (lose.includes(operation)) {
      lose = [];
      return req.socket.destroy();
    }
    if (every.n > 0 && WRITES.includes(operation) && ++every.writes % every.n === 0)
      return req.socket.destroy();
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseNext: (...operations: string[]) => {
      lose = operations;
    },
    /** From now, the answer to every `n`th write, the first after `n - shift` writes. */
    loseEvery: (n: number, shift = 0) => {
      every = { n, writes: shift };
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('a conditional write whose answer was lost', () => {
  let proxy: Awaited<ReturnType<typeof losingAnswers>>;
  let store: DynamoStore;

  beforeAll(async () => {
    proxy = await losingAnswers(inject('dynamodb').endpoint);
    const deps = await tableCoreDeps(proxy.endpoint);
    store = deps.store;
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    await createTenant(deps, { id: 'beta', name: 'Beta', plan: 'pro' });
  });

  afterAll(() => proxy.close());

  const plan = (id: string, version = 1) => ({
    id,
    name: 'Team',
    limits: { apps: 5, instancesPerApp: 3, vcpu: 4, memoryMiB: 8192 },
    archived: false,
    version,
    createdAt: '2026-12-06T00:00:00.000Z',
    updatedAt: `2026-12-06T00:00:0${version}.000Z`,
  });

  it('succeeds when tried again, where its condition fails on its own item', async () => {
    proxy.loseNext('PutItem');
    await store.createPlan(plan('team'));
    expect(await store.getPlan('team')).toEqual(plan('team'));
    proxy.loseNext('PutItem');
    await store.updatePlan(plan('team', 2), 1);
    expect(await store.getPlan('team')).toEqual(plan('team', 2));
  });

  const repository = (tenantId: string, name: string) => ({
    name,
    uri: `127.0.0.1:5000/${tenantId}/${name}`,
    createdAt: '2026-12-06T00:00:00.000Z',
  });

  it('succeeds for an update that sets attributes: a repository marked made answers its creator 201, not 409', async () => {
    expect(await store.createRepository('acme', { ...repository('acme', 'web'), pending: true }, 10)).toBe(
      true,
    );
    proxy.loseNext('UpdateItem');
    expect(await store.completeRepository('acme', 'web')).toBe(true);
    expect(await store.getRepository('acme', 'web')).toMatchObject({ pending: false });
    // Marked made already, by another create: this one is not the one that made it.
    expect(await store.completeRepository('acme', 'web')).toBe(false);
  });

  it('frees a deleted repository’s place on its tenant once', async () => {
    const create = (name: string) => store.createRepository('beta', repository('beta', name), 2);
    expect(await create('a')).toBe(true);
    expect(await create('b')).toBe(true);
    // The answer to the write that frees its place is lost, and the write sent again.
    proxy.loseNext('UpdateItem', 'TransactWriteItems');
    expect(await store.deleteRepository('beta', 'a')).toBe(true);
    expect(await create('c')).toBe(true);
    await expect(create('d')).rejects.toBeInstanceOf(QuotaExceededError);
  });

  it('still fails where the item its condition found is not its own', async () => {
    await store.createPlan(plan('scale'));
    proxy.loseNext('PutItem');
    await expect(store.createPlan({ ...plan('scale'), name: 'Scale' })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.createPlan(plan('scale'))).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('the core over a table that loses the answer to every third write', () => {
  it('answers as over one that loses none, and keeps each tenant’s counts', async () => {
    const proxy = await losingAnswers(inject('dynamodb').endpoint);
    try {
      const deps = await tableCoreDeps(proxy.endpoint);
      const web = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
      // Each tenant's writes are hit at other places in the sequence.
      for (const [shift, tenant] of ['t1', 't2', 't3'].entries()) {
        proxy.loseEvery(3, shift);
        await createPlan(deps, {
          id: `${tenant}-plan`,
          name: 'Team',
          limits: { apps: 5, instancesPerApp: 4, vcpu: 8, memoryMiB: 16384 },
        });
        await createTenant(deps, { id: tenant, name: tenant, plan: 'pro' });
        await updateTenant(deps, tenant, { name: `${tenant} Inc.` });
        const key = await issueTenantKey(deps, tenant, 'ci');
        await deps.registry.createRepository(tenant, 'web');
        await createApp(deps, tenant, { name: 'web', ...web });
        await scaleApp(deps, tenant, 'web', 3);
        await deploy(deps, tenant, 'web', { image: 'registry.example.com/acme/web:2' });
        await stopApp(deps, tenant, 'web');
        await startApp(deps, tenant, 'web');
        await createApp(deps, tenant, { name: 'api', ...web });
        await deleteApp(deps, tenant, 'api');
        await revokeTenantKey(deps, tenant, key.id);
        await deps.registry.createRepository(tenant, 'api');
        await deleteRepository(deps, tenant, 'api');
        await deps.registry.createRepository(tenant, 'jobs');
        proxy.loseEvery(0);
        expect((await getTenantOverview(deps, tenant)).usage).toMatchObject({
          // web at 3 replicas, and api until its deletion is finished
          apps: { used: 2 },
          vcpu: { used: 0.75 },
          apiKeys: { used: 1 },
          repositories: { used: 2 },
        });
      }
    } finally {
      proxy.close();
    }
  });
});
