import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { containerOptions, DockerRuntime, pullFailure } from '../../../functions/adapters/docker/runtime.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { WEB_REPLICA as spec } from '../../support/replica-spec.ts';

const NEVER = '0001-01-01T00:00:00Z';
const REFUSED = 'driver failed programming external connectivity on endpoint';

/**
 * An engine with one container, still "created" (with `error`, as Docker keeps one whose start failed), whose start
 * does what `start` does. Which engine failures leave such containers cannot be brought about through a replica's
 * spec; the tests of `listReplicas` on a real engine make them by hand.
 */
function engineWithCreatedContainer(start: () => Promise<void>, error = ''): Docker {
  const options = containerOptions(spec, 'berth', 'n1');
  const container = {
    id: 'c1',
    start,
    inspect: async () => ({
      Id: 'c1',
      Created: '2026-12-01T09:00:00Z',
      Config: { Labels: options.Labels },
      HostConfig: options.HostConfig,
      NetworkSettings: { Networks: {} },
      State: {
        Status: 'created',
        ExitCode: error ? 128 : 0,
        Error: error,
        OOMKilled: false,
        StartedAt: NEVER,
        FinishedAt: NEVER,
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
  it('leaves out a container removed while it was sampled, which the engine answers with an empty body', async () => {
    const cpu = (total: number, system: number) => ({
      cpu_usage: { total_usage: total },
      system_cpu_usage: system,
      online_cpus: 2,
    });
    const sample = {
      read: '2026-12-01T10:00:01Z',
      preread: '2026-12-01T10:00:00Z',
      cpu_stats: cpu(1.5e9, 20e9),
      precpu_stats: cpu(1e9, 18e9),
      memory_stats: { usage: 128 * 1024 * 1024, stats: { inactive_file: 0 } },
    };
    const docker = {
      getContainer: (id: string) => ({
        stats: async () => (id === 'gone' ? '' : sample),
        inspect: async () => ({ HostConfig: { NanoCpus: 0.5e9, Memory: 512 * 1024 * 1024 } }),
      }),
    } as unknown as Docker;
    const replica = (id: string) => ({ id }) as Parameters<DockerRuntime['replicaStats']>[0][number];

    const samples = await new DockerRuntime(docker, 'berth').replicaStats([replica('gone'), replica('c2')]);

    // 0.5 s of CPU over 2 s of both CPUs' time is 0.5 CPU: all of the 0.5 vCPU the replica has.
    expect([...samples.stats]).toEqual([['c2', { cpuPercent: 100, memoryMiB: 128, memoryPercent: 25 }]]);
  });

  it('measures a sample against its previous reading, asking Docker for one reading at once rather than a pair a second apart, while that reading is 1 to 60 s old', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const cpu = (total: number, system: number) => ({
        cpu_usage: { total_usage: total },
        system_cpu_usage: system,
        online_cpus: 2,
      });
      const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10) + s * 1000).toISOString();
      const asked: boolean[] = [];
      const answers = [
        // Docker's pair: at 0 s and 1 s.
        { read: at(1), preread: at(0), cpu_stats: cpu(1.5e9, 20e9), precpu_stats: cpu(1e9, 18e9) },
        // One reading at 11 s, as a one-shot answer has it: no earlier one.
        {
          read: at(11),
          preread: '0001-01-01T00:00:00Z',
          cpu_stats: cpu(2.5e9, 60e9),
          precpu_stats: cpu(0, 0),
        },
        {
          read: at(11.5),
          preread: '0001-01-01T00:00:00Z',
          cpu_stats: cpu(2.55e9, 62e9),
          precpu_stats: cpu(0, 0),
        },
        { read: at(81), preread: at(80), cpu_stats: cpu(3e9, 200e9), precpu_stats: cpu(2.9e9, 198e9) },
      ];
      const docker = {
        getContainer: () => ({
          stats: async (options: { 'one-shot': boolean }) => {
            asked.push(options['one-shot']);
            return { ...answers[asked.length - 1], memory_stats: { usage: 0 } };
          },
          inspect: async () => ({ HostConfig: { NanoCpus: 0.5e9, Memory: 512 * 1024 * 1024 } }),
        }),
      } as unknown as Docker;
      const runtime = new DockerRuntime(docker, 'berth');
      const sample = async (second: number) => {
        vi.setSystemTime(new Date(at(second)));
        const { windowSeconds, stats } = await runtime.replicaStats([
          { id: 'c1' } as Parameters<DockerRuntime['replicaStats']>[0][number],
        ]);
        return { windowSeconds, cpuPercent: stats.get('c1')?.cpuPercent };
      };

      expect(await sample(1)).toEqual({ windowSeconds: 1, cpuPercent: 100 });
      // 1 s of CPU over 40 s of both CPUs' time since the reading at 1 s: 0.05 CPU, a tenth of its 0.5.
      expect(await sample(11)).toEqual({ windowSeconds: 10, cpuPercent: 10 });
      // Half a second on, the reading at 11 s is too recent to measure against: the one at 1 s serves.
      expect(await sample(11.5)).toEqual({ windowSeconds: 11, cpuPercent: 10 });
      // The reading at 11 s is 70 s old: Docker's pair again (0.1 s over 2 s × 2: 0.1 CPU, a fifth of its 0.5).
      expect(await sample(81)).toEqual({ windowSeconds: 1, cpuPercent: 20 });
      expect(asked).toEqual([false, true, true, false]);
    } finally {
      vi.useRealTimers();
    }
  });
});
