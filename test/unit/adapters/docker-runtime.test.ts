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
});
