import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Replica, ReplicaView } from '../../../functions/core/ports.ts';
import { createApi } from '../../../functions/http/api.ts';
import type { ApiDeps } from '../../../functions/http/context.ts';
import { FOLLOWS_PER_TENANT } from '../../../functions/http/follow-limit.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { clientFor } from '../../support/local-api.ts';

/**
 * One running replica per app, whose followed log has a line every 10 ms until the follow ends (`quiet`: no line at
 * all, as an app that logs nothing); `following` counts the follows.
 */
function endlessLogs({ quiet = false } = {}) {
  const counts = { following: 0 };
  const view: ReplicaView = {
    runtime: {
      listReplicas: async (filter) => [
        {
          id: `${filter?.app}-replica-0`,
          tenantId: filter?.tenantId ?? '',
          app: filter?.app ?? '',
          appUid: filter?.appUid ?? '',
          revision: 1,
          generation: 1,
          slot: 0,
          state: 'running',
          cpu: 0.25,
          memoryMiB: 512,
          createdAt: new Date(0).toISOString(),
          startedAt: new Date(0).toISOString(),
          stoppedAt: null,
          exitCode: null,
          endpoint: null,
        } satisfies Replica,
      ],
    },
    logs: {
      async *replicaLogs(_replica, { follow, signal }) {
        if (!quiet) yield 'ready';
        if (!follow) return;
        counts.following += 1;
        try {
          while (!signal?.aborted) {
            await sleep(10);
            if (!quiet) yield 'tick';
          }
        } finally {
          counts.following -= 1;
        }
      },
    },
    metrics: { replicaStats: async () => ({ windowSeconds: 0, stats: new Map() }) },
    replicaInsights: async () => new Map(),
  };
  return { view, counts };
}

/** Each tenant's app, running the one replica endlessLogs gives it. */
const WEB = { name: 'web', image: 'registry.example.com/team/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('followed logs', () => {
  it(`lets a tenant follow ${FOLLOWS_PER_TENANT} logs at once, and another once one of them ends`, async () => {
    const { deps, adminKey } = await fakeApiDeps();
    const { view, counts } = endlessLogs();
    const api = createApi({ ...deps, views: { docker: view } });
    const { call, createTenant } = clientFor(api, adminKey);
    const keys = { acme: (await createTenant('acme')).key, globex: (await createTenant('globex')).key };
    for (const key of Object.values(keys))
      expect((await call('POST', '/v1/apps', key, WEB)).status).toBe(201);
    /** How each follow's client goes away: it stops reading and hangs up, as a closed connection does. */
    const hangUps: (() => Promise<void>)[] = [];
    /** Starts following the tenant's log; the answer's status once its first line came, or its problem. */
    const follow = async (key: string) => {
      const res = await api.request('/v1/apps/web/logs?follow=true', {
        headers: { authorization: `Bearer ${key}` },
      });
      if (res.status !== 200)
        return { status: res.status, code: ((await res.json()) as { code: string }).code };
      const reader = res.body?.getReader();
      await reader?.read();
      hangUps.push(async () => reader?.cancel());
      return { status: res.status };
    };
    try {
      for (let i = 0; i < FOLLOWS_PER_TENANT; i++) expect((await follow(keys.acme)).status).toBe(200);
      expect(await follow(keys.acme)).toEqual({ status: 429, code: 'rate.limited' });
      // Another tenant's follows, and the tenant's logs read without following, are their own.
      expect((await follow(keys.globex)).status).toBe(200);
      expect((await call('GET', '/v1/apps/web/logs', keys.acme)).text).toMatch(/ ready\n$/);

      await hangUps[0]?.();
      await expect.poll(() => counts.following).toBe(FOLLOWS_PER_TENANT);
      expect((await follow(keys.acme)).status).toBe(200);
    } finally {
      await Promise.all(hangUps.map((hangUp) => hangUp()));
    }
    await expect.poll(() => counts.following).toBe(0);
  });

  it('gives back at once what a HEAD of a followed log takes, so HEADs never use up the follows', async () => {
    const { deps, adminKey } = await fakeApiDeps();
    // No line comes: the body's first read waits for one when the HEAD is answered.
    const { view, counts } = endlessLogs({ quiet: true });
    const api = createApi({ ...deps, views: { docker: view } });
    const { call, createTenant } = clientFor(api, adminKey);
    const { key } = await createTenant('acme');
    expect((await call('POST', '/v1/apps', key, WEB)).status).toBe(201);
    const headers = { authorization: `Bearer ${key}` };
    for (let i = 0; i <= FOLLOWS_PER_TENANT; i++) {
      const res = await api.request('/v1/apps/web/logs?follow=true', { method: 'HEAD', headers });
      expect([res.status, res.headers.get('content-type'), res.body]).toEqual([
        200,
        'text/plain; charset=utf-8',
        null,
      ]);
    }
    await expect.poll(() => counts.following).toBe(0);
    const res = await api.request('/v1/apps/web/logs?follow=true', { headers });
    expect(res.status).toBe(200);
    await expect.poll(() => counts.following).toBe(1);
    await res.body?.cancel();
    await expect.poll(() => counts.following).toBe(0);
  });

  it('gives a follow back however it ends: its app not found, its wait or its body at an end', async () => {
    const { deps, adminKey } = await fakeApiDeps();
    const endless = endlessLogs();
    const apiDeps: ApiDeps = { ...deps, views: { docker: endless.view } };
    const api = createApi(apiDeps);
    const { call, createTenant } = clientFor(api, adminKey);
    const { key } = await createTenant('acme');
    expect((await call('POST', '/v1/apps', key, WEB)).status).toBe(201);
    const follow = (name: string) =>
      api.request(`/v1/apps/${name}/logs?follow=true`, { headers: { authorization: `Bearer ${key}` } });
    // One more than a tenant holds at once, one after another: each gives its follow back as it ends.
    const times = FOLLOWS_PER_TENANT + 1;
    for (let i = 0; i < times; i++) expect((await follow('nope')).status).toBe(404);

    // Behind a gateway: the wait it may hold its Lambda for over, or the body as large as the gateway carries.
    apiDeps.bufferedAnswers = { waitMs: 50, maxBodyBytes: 5 * 1024 * 1024 };
    for (let i = 0; i < times; i++) {
      const res = await follow('web');
      expect([res.status, (await res.text()).split('\n')[0]]).toEqual([
        200,
        expect.stringMatching(/ ready$/),
      ]);
    }
    apiDeps.bufferedAnswers = { waitMs: 60_000, maxBodyBytes: 200 };
    for (let i = 0; i < times; i++) {
      const res = await follow('web');
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeLessThanOrEqual(200);
      // The log's reads end with the body, not when the wait it may take is over.
      await expect.poll(() => endless.counts.following).toBe(0);
    }
  });
});
