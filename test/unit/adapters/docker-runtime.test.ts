import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { containerOptions, DockerRuntime, pullFailure } from '../../../functions/adapters/docker/runtime.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { dockerStatsFrame } from '../../support/docker-stats.ts';
import { WEB_REPLICA as spec } from '../../support/replica-spec.ts';

const NEVER = '0001-01-01T00:00:00Z';
const REFUSED = 'driver failed programming external connectivity on endpoint';

/**
 * An engine with one container, still "created" (with `error`, as Docker keeps one whose start failed) unless `state`
 * says otherwise, whose start does what `start` does, with `config` beyond its labels. Which engine failures leave
 * such containers cannot be brought about through a replica's spec; the tests of `listReplicas` on a real engine
 * make them by hand.
 */
function engineWithCreatedContainer(
  start: () => Promise<void>,
  error = '',
  state: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
): Docker {
  const options = containerOptions(spec, 'berth', 'n1');
  const container = {
    id: 'c1',
    start,
    inspect: async () => ({
      Id: 'c1',
      Created: '2026-12-01T09:00:00Z',
      Config: { Labels: options.Labels, ...config },
      HostConfig: options.HostConfig,
      NetworkSettings: { Networks: {} },
      State: {
        Status: 'created',
        ExitCode: error ? 128 : 0,
        Error: error,
        OOMKilled: false,
        StartedAt: NEVER,
        FinishedAt: NEVER,
        ...state,
      },
    }),
  };
  return {
    getImage: () => ({ inspect: async () => ({}) }),
    getNetwork: () => ({ inspect: async () => ({ Options: {} }) }),
    listNetworks: async () => [{ Id: 'n1', Options: { 'com.docker.network.bridge.enable_icc': 'false' } }],
    createContainer: async () => container,
    listContainers: async () => [{ Id: 'c1' }],
    getContainer: () => container,
  } as unknown as Docker;
}

const failing = (error: object) => async () =>
  Promise.reject(Object.assign(new Error('start failed'), error));

describe("a replica's container", () => {
  it('is named by its installation, tenant, app and incarnation, revision, generation and slot', () => {
    expect(containerOptions(spec, 'berth', 'n1').name).toBe('berth-acme-web-00000001-r1-g1-s0');
    expect(containerOptions({ ...spec, slot: 2 }, 'dev', 'n1').name).toBe('dev-acme-web-00000001-r1-g1-s2');
  });
});

/** What the engine answers for an image or container it does not have. */
const notFound = (what: string) => async () =>
  Promise.reject(Object.assign(new Error(`no such ${what}`), { statusCode: 404 }));

/** What dockerode rejects with when the engine's socket refuses the connection: no HTTP status. */
const engineGone = () =>
  Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });

describe('the Docker runtime when the engine goes away', () => {
  it("answers unavailable, to be retried, when the engine cannot be reached for a pull: not the image's failure", async () => {
    const docker = engineWithCreatedContainer(async () => {});
    Object.assign(docker, {
      getImage: () => ({ inspect: notFound('image') }),
      pull: async () => Promise.reject(engineGone()),
    });
    await expect(new DockerRuntime(docker, 'berth').startReplica(spec)).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it('answers unavailable when the engine cannot be reached for a log', async () => {
    const docker = engineWithCreatedContainer(async () => {});
    const container = docker.getContainer('c1');
    Object.assign(container, { logs: async () => Promise.reject(engineGone()) });
    const runtime = new DockerRuntime(docker, 'berth');
    const [replica] = await runtime.listReplicas();
    if (!replica) throw new Error('no replica');
    const read = async () => {
      for await (const _ of runtime.replicaLogs(replica, {})) break;
    };
    await expect(read()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('answers unavailable when the engine went away after a stop, before the stopped replica could be read', async () => {
    const docker = engineWithCreatedContainer(async () => {});
    Object.assign(docker.getContainer('c1'), {
      stop: async () => {},
      inspect: async () => Promise.reject(engineGone()),
    });
    await expect(new DockerRuntime(docker, 'berth').stopReplica('c1', 10)).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});

describe('the Docker runtime and containers removed meanwhile', () => {
  it('answers a replica removed outside Berth as gone when it stops it, whether before the stop or after', async () => {
    const docker = engineWithCreatedContainer(async () => {});
    const gone = notFound('container');
    Object.assign(docker.getContainer('c1'), { stop: gone });
    expect(await new DockerRuntime(docker, 'berth').stopReplica('c1', 10)).toBeUndefined();
    Object.assign(docker.getContainer('c1'), { stop: async () => {}, inspect: gone });
    expect(await new DockerRuntime(docker, 'berth').stopReplica('c1', 10)).toBeUndefined();
  });

  it('leaves out a container removed between its listing and its inspection', async () => {
    const docker = engineWithCreatedContainer(async () => {});
    const removed = { inspect: notFound('container') };
    const listed = docker.getContainer('c1');
    Object.assign(docker, {
      listContainers: async () => [{ Id: 'c1' }, { Id: 'c2' }],
      getContainer: (id: string) => (id === 'c1' ? listed : removed),
    });
    expect((await new DockerRuntime(docker, 'berth').listReplicas()).map((r) => r.id)).toEqual(['c1']);
  });
});

describe('the Docker runtime and containers that never ran', () => {
  it('answers the replica as exited, with the reason, when the engine refuses the start', async () => {
    const runtime = new DockerRuntime(
      engineWithCreatedContainer(failing({ statusCode: 500 }), REFUSED),
      'berth',
    );
    expect(await runtime.startReplica(spec)).toMatchObject({
      id: 'c1',
      state: 'exited',
      exitCode: 128,
      exitReason: REFUSED,
      endpoint: null,
    });
  });

  it('answers unavailable when the engine went away during the start', async () => {
    const runtime = new DockerRuntime(engineWithCreatedContainer(failing({ code: 'ECONNREFUSED' })), 'berth');
    await expect(runtime.startReplica(spec)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('lists a container it is starting as pending, and one no start is on its way to as exited, never started', async () => {
    let release = () => {};
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runtime = new DockerRuntime(
      engineWithCreatedContainer(() => started),
      'berth',
    );
    const starting = runtime.startReplica(spec);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await runtime.listReplicas()).toMatchObject([{ id: 'c1', state: 'pending', exitCode: null }]);

    release();
    await starting;
    // This engine still says "created": once the start is no longer on its way, nothing will run it.
    expect(await runtime.listReplicas()).toMatchObject([
      { id: 'c1', state: 'exited', exitCode: null, exitReason: 'never started' },
    ]);
  });
});

describe('the Docker runtime and replicas that exited', () => {
  it('never answers a replica as stopped before it started, as the engine may stamp one that exits at once', async () => {
    const exited = (startedAt: string, finishedAt: string) =>
      new DockerRuntime(
        engineWithCreatedContainer(async () => {}, '', {
          Status: 'exited',
          ExitCode: 127,
          StartedAt: startedAt,
          FinishedAt: finishedAt,
        }),
        'berth',
      ).listReplicas();
    expect(await exited('2026-12-03T09:02:50.154Z', '2026-12-03T09:02:50.153Z')).toMatchObject([
      { state: 'exited', startedAt: '2026-12-03T09:02:50.154Z', stoppedAt: '2026-12-03T09:02:50.154Z' },
    ]);
    expect(await exited('2026-12-03T09:02:49.655Z', '2026-12-03T09:02:49.658Z')).toMatchObject([
      { state: 'exited', startedAt: '2026-12-03T09:02:49.655Z', stoppedAt: '2026-12-03T09:02:49.658Z' },
    ]);
  });
});

describe('the Docker runtime and its apps network', () => {
  it('starts every replica on the apps network, and looks the network up again after a create failed', async () => {
    const docker = engineWithCreatedContainer(async () => {});
    const listNetworks = vi.spyOn(docker, 'listNetworks');
    const created = vi.spyOn(docker, 'createContainer');
    created.mockRejectedValueOnce(Object.assign(new Error('network n1 not found'), { statusCode: 404 }));
    const runtime = new DockerRuntime(docker, 'berth');

    await expect(runtime.startReplica(spec)).rejects.toThrow('network n1 not found');
    await runtime.startReplica(spec);
    await runtime.startReplica({ ...spec, slot: 1 });
    expect(listNetworks).toHaveBeenCalledTimes(2);
    expect(created).toHaveBeenLastCalledWith(
      expect.objectContaining({ HostConfig: expect.objectContaining({ NetworkMode: 'n1' }) }),
    );
  });
});

describe("a pull's failure, as the tenant reads it", () => {
  it("keeps the engine's words but not the machine's DNS resolver", () => {
    expect(
      pullFailure(
        'registry.invalid/web:1',
        'Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid on 10.0.0.2:53: no such host',
      ).message,
    ).toBe(
      'pulling registry.invalid/web:1 failed: Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host',
    );
    expect(
      pullFailure(
        'slow.example/web:1',
        'dial tcp: lookup slow.example on 10.0.0.2:53: read udp 172.17.0.1:40000->10.0.0.2:53: i/o timeout',
      ).message,
    ).toBe('pulling slow.example/web:1 failed: dial tcp: lookup slow.example: i/o timeout');
  });

  it("keeps the engine's words but not where its proxy is", () => {
    expect(
      pullFailure(
        'registry.example/web:1',
        'Get "https://registry.example/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: connection refused',
      ).message,
    ).toBe(
      'pulling registry.example/web:1 failed: Get "https://registry.example/v2/": proxyconnect tcp: dial tcp (the engine\'s proxy): connect: connection refused',
    );
    expect(
      pullFailure(
        'registry.example/web:1',
        'Get "https://registry.example/v2/": proxyconnect tcp: dial tcp: lookup proxy.corp.internal on 10.0.0.2:53: no such host',
      ).message,
    ).toBe(
      'pulling registry.example/web:1 failed: Get "https://registry.example/v2/": proxyconnect tcp: dial tcp (the engine\'s proxy): no such host',
    );
  });

  it('ends where the words do: the engine ends some with a space', () => {
    expect(
      pullFailure(
        'nope',
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host ',
      ).message,
    ).toBe(
      'pulling nope failed: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
    );
  });

  it('never quotes the body of an answer that was no registry’s', () => {
    expect(
      pullFailure('10.0.0.9/web:1', 'error parsing HTTP 404 response body: invalid character \'s\' "secret"')
        .message,
    ).toBe(
      "pulling 10.0.0.9/web:1 failed: error parsing HTTP 404 response body (not a registry's answer; not shown)",
    );
  });
});

describe('the Docker runtime sampling replicas', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  /** An engine whose stats streams send, for each container, the frames `framesOf` gives; `gone` is no container. */
  function engineSending(framesOf: (id: string) => object[]): { docker: Docker; asked: string[] } {
    const asked: string[] = [];
    const docker = {
      getContainer: (id: string) => ({
        stats: async (options: { stream: boolean }) => {
          asked.push(`${id} stream=${options.stream}`);
          if (id === 'gone') throw Object.assign(new Error('no such container'), { statusCode: 404 });
          const stream = new PassThrough();
          for (const frame of framesOf(id)) stream.write(`${JSON.stringify(frame)}\n`);
          return stream;
        },
      }),
    } as unknown as Docker;
    return { docker, asked };
  }
  const T0 = Date.UTC(2026, 11, 1, 10);
  /** A reading `s` seconds in: `cpuSeconds` of the container's CPU time, 128 MiB of memory. */
  const frame = (s: number, cpuSeconds: number) =>
    dockerStatsFrame(T0, s, cpuSeconds, { usageMiB: 128, inactiveFileMiB: 0 });
  const replica = (id: string) =>
    ({ id, cpu: 0.5, memoryMiB: 512 }) as Parameters<DockerRuntime['replicaStats']>[0][number];

  it('measures each replica against its own limits, and leaves out a container that is gone', async () => {
    // A quarter of a CPU used: half of the replica's 0.5 vCPU.
    const { docker, asked } = engineSending(() => [frame(0, 0), frame(1, 0.25)]);
    const runtime = new DockerRuntime(docker, 'berth');

    const samples = await runtime.replicaStats([replica('gone'), replica('c2')]);

    expect([...samples.stats]).toEqual([['c2', { cpuPercent: 50, memoryMiB: 128, memoryPercent: 25 }]]);
    expect(asked).toEqual(['gone stream=true', 'c2 stream=true']);
    runtime.close();
  });

  it("measures CPU over the window asked, the last 10 s when none is, as far as the replica's stream goes back", async () => {
    // Idle for 60 s, then a quarter of a CPU for 30 s (half of the replica's 0.5 vCPU).
    const frames = Array.from({ length: 91 }, (_, s) => frame(s, Math.max(0, s - 60) / 4));
    const { docker, asked } = engineSending(() => frames);
    // Sampled at the first reading, while the rest come in: no reading is then old enough to be a stalled stream's.
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    const runtime = new DockerRuntime(docker, 'berth');
    await runtime.replicaStats([replica('c1')]);
    // The stream reads its frames as they come.
    await vi.waitFor(async () =>
      expect((await runtime.replicaStats([replica('c1')], 300)).windowSeconds).toBe(90),
    );

    const cpuOf = async (windowSeconds?: number) => {
      const samples = await runtime.replicaStats([replica('c1')], windowSeconds);
      return { windowSeconds: samples.windowSeconds, cpuPercent: samples.stats.get('c1')?.cpuPercent };
    };
    const percentOfReplica = (cpuSeconds: number, overSeconds: number) =>
      expect.closeTo((cpuSeconds / overSeconds / 0.5) * 100, 9);
    // Over all 90 s it holds, 15 minutes asked.
    expect(await cpuOf(900)).toEqual({ windowSeconds: 90, cpuPercent: percentOfReplica(7.5, 90) });
    // Over the last minute: back to the reading at 30 s.
    expect(await cpuOf(60)).toEqual({ windowSeconds: 60, cpuPercent: percentOfReplica(7.5, 60) });
    // Over 35 s: back to the reading at 55 s (those before the newest are kept 5 s apart).
    expect(await cpuOf(35)).toEqual({ windowSeconds: 35, cpuPercent: percentOfReplica(7.5, 35) });
    // With no window asked, the last 10 s: back to the reading at 80 s.
    expect(await cpuOf()).toEqual({ windowSeconds: 10, cpuPercent: percentOfReplica(2.5, 10) });
    expect(asked).toEqual(['c1 stream=true']);
    runtime.close();
  });
});

describe('a replica the engine stopped for someone else', () => {
  const EXITED = {
    Status: 'exited',
    ExitCode: 131,
    StartedAt: '2026-12-01T09:00:01Z',
    FinishedAt: '2026-12-01T09:05:00Z',
  };

  it('is stopped outside Berth once it exits after its stop signal or SIGKILL, not after another signal', async () => {
    // An image whose STOPSIGNAL is SIGQUIT, as Docker may report it: by number.
    const engine = engineWithCreatedContainer(async () => {}, '', EXITED, { StopSignal: '3' });
    const runtime = new DockerRuntime(engine, 'berth');
    // A reload asked of it says nothing of its exit.
    runtime.signalledBy('c1', 'SIGHUP');
    const [reloaded] = await runtime.listReplicas();
    expect(reloaded).toMatchObject({ state: 'exited', exitCode: 131 });
    expect(reloaded?.stoppedOutside).toBeUndefined();
    runtime.signalledBy('c1', 'SIGQUIT');
    const why = 'the engine sent its container SIGQUIT (docker stop or kill, or the engine shutting down)';
    expect((await runtime.listReplicas())[0]).toMatchObject({
      stoppedOutside: why,
      exitReason: `stopped outside Berth: ${why}`,
    });
  });

  it('is not when Berth stopped it, though the engine tells of its stop signal during the stop or after it', async () => {
    const docker = engineWithCreatedContainer(async () => {}, '', EXITED);
    const runtime = new DockerRuntime(docker, 'berth');
    Object.assign(docker.getContainer('c1'), { stop: async () => runtime.signalledBy('c1', 'SIGTERM') });
    expect(await runtime.stopReplica('c1', 10)).not.toHaveProperty('stoppedOutside');
    runtime.signalledBy('c1', 'SIGKILL');
    expect((await runtime.listReplicas())[0]).not.toHaveProperty('stoppedOutside');
  });

  it('is told for the last 1,000 containers signalled, 10 signals each, a removed one forgotten at once', async () => {
    const docker = engineWithCreatedContainer(async () => {}, '', EXITED);
    Object.assign(docker.getContainer('c1'), { remove: async () => {} });
    const runtimeOnEngine = () => new DockerRuntime(docker, 'berth');
    const stoppedOutside = async (runtime: DockerRuntime) =>
      (await runtime.listReplicas())[0]?.stoppedOutside !== undefined;

    // A container sent signal after signal keeps the first ten.
    const reloaded = runtimeOnEngine();
    for (let i = 0; i < 10; i++) reloaded.signalledBy('c1', 'SIGHUP');
    reloaded.signalledBy('c1', 'SIGTERM');
    expect(await stoppedOutside(reloaded)).toBe(false);

    const runtime = runtimeOnEngine();
    runtime.signalledBy('c1', 'SIGTERM');
    for (let i = 0; i < 999; i++) runtime.signalledBy(`other-${i}`, 'SIGTERM');
    // c1's and 999 others': full. A removed container's place is free again.
    await runtime.removeReplica('other-0');
    runtime.signalledBy('other-999', 'SIGTERM');
    expect(await stoppedOutside(runtime)).toBe(true);
    // Full again: the next container's signal takes the place of the oldest, c1's.
    runtime.signalledBy('other-1000', 'SIGTERM');
    expect(await stoppedOutside(runtime)).toBe(false);
  });
});
