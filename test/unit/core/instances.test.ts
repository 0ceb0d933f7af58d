import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, deleteApp, getAppRecord } from '../../../functions/core/apps.ts';
import { appLogs, listInstances, shortReplicaId } from '../../../functions/core/instances.ts';
import type { LogOptions, Replica, ReplicaFilter, ReplicaInsight } from '../../../functions/core/ports.ts';
import { RecentAnswers } from '../../../functions/core/recent-answers.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import type { LogQuery } from '../../../schemas/instance.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { ListedReplicas, replica } from '../../fakes/fake-runtime.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

/**
 * Tenant acme's app `web` on a Docker view whose replicas are `runtime`'s, each with the log `replicaLogs` gives and
 * the insight `insights` has of it; `started(at)` makes one of its replicas, `logs(query, signal)` reads its log and
 * `instances()` lists them as the API does.
 */
async function viewedApp(
  replicaLogs: (replica: Replica, options: LogOptions) => AsyncIterable<string>,
  insights = new Map<string, ReplicaInsight>(),
) {
  const deps = await fakeCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
  await createApp(deps, 'acme', { ...spec, name: 'web' });
  const app = await getAppRecord(deps, 'acme', 'web');
  const runtime = new ListedReplicas();
  const figuresAsked: unknown[] = [];
  const views = {
    docker: {
      runtime,
      logs: { replicaLogs },
      metrics: {
        replicaStats: async (_replicas: Replica[], _windowSeconds?: number, figures?: readonly string[]) => {
          figuresAsked.push(figures);
          return { windowSeconds: 1, stats: new Map() };
        },
      },
      replicaInsights: async () => insights,
    },
  };
  return {
    deps,
    runtime,
    figuresAsked,
    started: (at: string): Replica => ({ ...replica('acme', 'web', at), appUid: app.uid }),
    logs: (query: LogQuery, signal: AbortSignal) => appLogs({ ...deps, views }, 'acme', 'web', query, signal),
    instances: () => listInstances({ ...deps, views }, 'acme', 'web'),
  };
}

describe("an app's instances", () => {
  it("tell each replica's health, stopping once it is asked to stop whatever its checks said", async () => {
    const insights = new Map<string, ReplicaInsight>();
    const { runtime, started, instances } = await viewedApp(async function* () {}, insights);
    const at = (second: number) => `2026-11-22T10:00:0${second}Z`;
    const [fresh, serving, failing] = [started(at(0)), started(at(1)), started(at(2))];
    const leaving = { ...started(at(3)), stopping: true };
    const gone = { ...started(at(4)), state: 'exited' as const, exitCode: 143, stopRequested: true };
    runtime.replicas = [fresh, serving, failing, leaving, gone];
    const checked = { ready: true, unhealthy: false, restarts: 0 };
    for (const r of [serving, leaving, gone]) insights.set(r.id, checked);
    insights.set(failing.id, { ready: false, unhealthy: true, restarts: 1 });
    expect((await instances()).map((i) => i.health)).toEqual([
      'starting',
      'healthy',
      'unhealthy',
      'stopping',
      'stopped',
    ]);
  });

  it('come oldest first, in whatever order the runtime lists them', async () => {
    const { runtime, started, instances } = await viewedApp(async function* () {});
    const replicas = ['10:00:00', '10:00:01', '10:00:02'].map((t) => started(`2026-11-22T${t}Z`));
    runtime.replicas = [...replicas].reverse();
    expect((await instances()).map((i) => i.id)).toEqual(replicas.map((r) => shortReplicaId(r.id)));
  });
});

describe('app logs', () => {
  it('ask the metrics for what an instance shows alone, CPU and memory in MiB: each figure a billed query on Fargate', async () => {
    const { runtime, started, instances, figuresAsked } = await viewedApp(async function* () {});
    runtime.replicas = [started('2026-11-22T10:00:00Z')];
    await instances();
    expect(figuresAsked).toEqual([['cpuPercent', 'memoryMiB']]);
  });

  it("interleaves the replicas' followed lines and stops every source when the reader stops", async () => {
    const stopped: string[] = [];
    // Each replica writes a line every few milliseconds, forever, as a followed log does.
    async function* follow(r: Replica, _options: LogOptions) {
      try {
        for (let n = 0; ; n++) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          yield `${r.id} line ${n}`;
        }
      } finally {
        stopped.push(r.id);
      }
    }
    const { runtime, started, logs } = await viewedApp(follow);
    runtime.replicas = ['2026-11-22T10:00:00Z', '2026-11-22T10:00:01Z'].map(started);
    const lines = await logs({ tail: 10, follow: 'true' }, new AbortController().signal);
    const read: string[] = [];
    for await (const line of lines) {
      read.push(line);
      if (read.length === 6) break;
    }
    expect(new Set(read.map((l) => l.split(' ')[1])).size).toBe(2); // both replicas' lines
    // A source stops at its next line (the one it was reading when the reader left).
    await vi.waitFor(() => expect(stopped.sort()).toEqual(runtime.replicas.map((r) => r.id).sort()));
  });

  it("reads the replicas' last lines in the order they were written, each by its replica's short id", async () => {
    // ECS tasks by their ARNs: the one a deploy replaced, then two of the new revision.
    const task = (n: string) =>
      `arn:aws:ecs:eu-west-1:123456789012:task/berth-apps/${n.repeat(12)}${'0'.repeat(20)}`;
    const written = new Map([
      [task('a'), ['2026-11-22T10:00:00.9Z boot', '2026-11-22T10:04:59.5Z bye']],
      [task('b'), ['2026-11-22T10:05:00.0001Z boot', '2026-11-22T10:05:01Z GET /']],
      [task('c'), ['2026-11-22T10:05:00.00005Z boot', '2026-11-22T10:05:02Z GET /']],
    ]);
    const { runtime, started, logs } = await viewedApp(async function* (r) {
      yield* written.get(r.id) ?? [];
    });
    runtime.replicas = [...written.keys()].map((id, i) => ({ ...started(`2026-11-22T10:0${i}:00Z`), id }));
    const read: string[] = [];
    for await (const line of await logs({ tail: 100, follow: 'false' }, new AbortController().signal))
      read.push(line);
    expect(read.join('')).toBe(
      [
        'aaaaaaaaaaaa 2026-11-22T10:00:00.9Z boot',
        'aaaaaaaaaaaa 2026-11-22T10:04:59.5Z bye',
        'cccccccccccc 2026-11-22T10:05:00.00005Z boot',
        'bbbbbbbbbbbb 2026-11-22T10:05:00.0001Z boot',
        'bbbbbbbbbbbb 2026-11-22T10:05:01Z GET /',
        'cccccccccccc 2026-11-22T10:05:02Z GET /',
        '',
      ].join('\n'),
    );
  });

  it('gives the lines written at or after `since`, to the millisecond, of a runtime that takes it to the second', async () => {
    const written = ['10:00:00.1Z boot', '10:00:00.499Z GET /a', '10:00:00.5Z GET /b', '10:00:01Z GET /c'];
    // As Docker's `since` and the kubelet's `sinceSeconds` do: whole seconds.
    const { runtime, started, logs } = await viewedApp(async function* (_r, options) {
      const second = Math.floor((options.since?.getTime() ?? 0) / 1000) * 1000;
      for (const line of written.map((l) => `2026-11-22T${l}`))
        if (Date.parse(line.split(' ')[0] ?? '') >= second) yield line;
    });
    const replica = started('2026-11-22T09:00:00Z');
    runtime.replicas = [replica];
    const prefix = shortReplicaId(replica.id);
    for (const follow of ['false', 'true'] as const) {
      const read: string[] = [];
      const query = { tail: 100, since: '2026-11-22T10:00:00.500Z', follow };
      for await (const line of await logs(query, AbortSignal.abort())) read.push(line);
      expect(read, follow).toEqual([
        `${prefix} 2026-11-22T10:00:00.5Z GET /b\n`,
        `${prefix} 2026-11-22T10:00:01Z GET /c\n`,
      ]);
    }
  });

  it("ends only a replica's own lines when its log fails mid-read (removed meanwhile): the others' go on", async () => {
    async function* said(r: Replica, _options: LogOptions) {
      yield `${r.id} one`;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (r.id === first.id) throw new Error('No such container');
      yield `${r.id} two`;
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield `${r.id} three`;
    }
    const { runtime, started, logs } = await viewedApp(said);
    const first = started('2026-11-22T10:00:00Z');
    const second = started('2026-11-22T10:00:01Z');
    runtime.replicas = [first, second];
    const read: string[] = [];
    for await (const line of await logs({ tail: 10, follow: 'false' }, new AbortController().signal))
      read.push(line);
    const of = (r: Replica) =>
      read.filter((line) => line.startsWith(r.id.slice(0, 12))).map((l) => l.split(' ')[2]);
    expect(of(first)).toEqual(['one\n']);
    expect(of(second)).toEqual(['one\n', 'two\n', 'three\n']);
  });
});

describe("the replicas' short ids in an app's log", () => {
  it('tells each replica apart on every runtime: a hex id cut to 12 characters, a pod by its name', () => {
    const container = '0a99210b10d6f41170d516026a71fcf6e5ffb83750a2bdc50d823467d7656c1e';
    expect(shortReplicaId(container)).toBe('0a99210b10d6');
    const task = 'arn:aws:ecs:eu-west-1:123456789012:task/berth-apps/3f8c2a9e1b7d4c6e8a0f2b4d6c8e0a1b';
    expect(shortReplicaId(task)).toBe('3f8c2a9e1b7d');
    expect(shortReplicaId('berth-acme/web-5d8f7b9c4-x2k4q')).toBe('web-5d8f7b9c4-x2k4q');
    expect(shortReplicaId('c1')).toBe('c1');
  });
});

describe('following an app’s logs as its replicas come and go', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes on with the replicas that start meanwhile, from their first line, until the follow ends', async () => {
    const asked: LogOptions[] = [];
    // Each replica has said two lines, and says no more: the old one stops in the restart, the new one is quiet.
    async function* said(r: Replica, options: LogOptions) {
      asked.push(options);
      yield `${r.id} first`;
      yield `${r.id} second`;
    }
    const { runtime, started, logs } = await viewedApp(said);
    const old = started('2026-11-22T10:00:00Z');
    runtime.replicas = [old];
    const follow = new AbortController();
    const lines = await logs({ tail: 1, follow: 'true' }, follow.signal);
    const read: string[] = [];
    let ended = false;
    const reading = (async () => {
      for await (const line of lines) read.push(line.trim());
      ended = true;
    })();
    await vi.advanceTimersByTimeAsync(1000);
    expect(read).toEqual([`${old.id} ${old.id} first`, `${old.id} ${old.id} second`]);
    // The old replica's lines ended; the follow did not. A restart's replica shows up at the next look.
    expect(ended).toBe(false);
    const restarted = started('2026-11-22T10:05:00Z');
    runtime.replicas = [old, restarted];
    await vi.advanceTimersByTimeAsync(5000);
    expect(read.slice(2)).toEqual([
      `${restarted.id} ${restarted.id} first`,
      `${restarted.id} ${restarted.id} second`,
    ]);
    // The replicas there at the start by the query's tail; one that joined from its first line, followed.
    expect(asked.map(({ tail, follow }) => ({ tail, follow }))).toEqual([
      { tail: 1, follow: true },
      { tail: undefined, follow: true },
    ]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(read).toHaveLength(4);
    follow.abort();
    await reading;
    expect(ended).toBe(true);
  });

  it("ends with the last replicas' lines of an app that is deleted, as no replica will join", async () => {
    async function* said(r: Replica) {
      yield `${r.id} last words`;
    }
    const { deps, runtime, started, logs } = await viewedApp(said);
    const last = started('2026-11-22T10:00:00Z');
    runtime.replicas = [last];
    const lines = await logs({ tail: 100, follow: 'true' }, new AbortController().signal);
    const read: string[] = [];
    let ended = false;
    void (async () => {
      for await (const line of lines) read.push(line.trim());
      ended = true;
    })();
    await vi.advanceTimersByTimeAsync(6000);
    expect(ended).toBe(false);
    await deleteApp(deps, 'acme', 'web');
    await vi.advanceTimersByTimeAsync(5000);
    expect(ended).toBe(true);
    expect(read).toEqual([`${last.id} ${last.id} last words`]);
  });
});

describe('instances where reading the runtime spends a shared quota', () => {
  it('reads an app once per moment however often asked, each app apart, and never keeps a failure', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    for (const name of ['web', 'api']) {
      await createApp(deps, 'acme', { ...spec, name });
    }
    const web = await getAppRecord(deps, 'acme', 'web');
    const replicas = [{ ...replica('acme', 'web', '2026-11-22T10:00:00Z'), appUid: web.uid }];
    const reads = vi.fn(async (filter?: ReplicaFilter) =>
      replicas.filter((r) => r.appUid === filter?.appUid),
    );
    const runtime = { listReplicas: reads };
    let nowMs = 0;
    const views = {
      docker: {
        runtime,
        logs: { replicaLogs: async function* () {} },
        metrics: { replicaStats: async () => ({ windowSeconds: 1, stats: new Map() }) },
        replicaInsights: async () => new Map(),
      },
    };
    const cached = { ...deps, views, recentInstances: new RecentAnswers(3000, () => nowMs) };

    const first = await Promise.all([1, 2, 3].map(() => listInstances(cached, 'acme', 'web')));
    expect(first.map((list) => list.length)).toEqual([1, 1, 1]);
    expect(reads).toHaveBeenCalledTimes(1);
    nowMs = 2999;
    await listInstances(cached, 'acme', 'web');
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await listInstances(cached, 'acme', 'api')).toEqual([]);
    expect(reads).toHaveBeenCalledTimes(2);
    nowMs = 3000;
    await listInstances(cached, 'acme', 'web');
    expect(reads).toHaveBeenCalledTimes(3);

    reads.mockRejectedValueOnce(new Error('throttled'));
    nowMs = 6000;
    await expect(listInstances(cached, 'acme', 'web')).rejects.toThrow('throttled');
    expect(await listInstances(cached, 'acme', 'web')).toHaveLength(1);
    expect(reads).toHaveBeenCalledTimes(5);
    // Without a cache (local mode), every ask reads.
    await listInstances({ ...deps, views }, 'acme', 'web');
    expect(reads).toHaveBeenCalledTimes(6);
  });
});
