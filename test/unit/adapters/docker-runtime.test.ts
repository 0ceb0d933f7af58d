import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerOptions, DockerRuntime } from '../../../functions/adapters/docker/runtime.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';

const spec = {
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_0mx4gr51j0000000000000001',
  revision: 1,
  generation: 1,
  slot: 0,
  image: 'berth-test/web:1',
  cpu: 0.25,
  memory: 512,
  port: 8080,
  command: null,
  env: {},
};
const NEVER = '0001-01-01T00:00:00Z';

/**
 * An engine whose start of the container fails with `startError`, and which then describes the container as Docker
 * does one whose start failed. Which engine failures cause that cannot be brought about through a replica's spec
 * (the test of `listReplicas` on a real engine makes such a container by hand).
 */
function engineFailingStart(startError: object): Docker {
  const options = containerOptions(spec, 'berth');
  const container = {
    start: async () => Promise.reject(Object.assign(new Error('start failed'), startError)),
    inspect: async () => ({
      Id: 'c1',
      Created: '2026-12-01T09:00:00Z',
      Config: { Labels: options.Labels },
      HostConfig: options.HostConfig,
      NetworkSettings: { Networks: {} },
      State: {
        Status: 'created',
        ExitCode: 128,
        Error: 'driver failed programming external connectivity on endpoint',
        OOMKilled: false,
        StartedAt: NEVER,
        FinishedAt: NEVER,
      },
    }),
  };
  return {
    getImage: () => ({ inspect: async () => ({}) }),
    createContainer: async () => container,
  } as unknown as Docker;
}

describe('the Docker runtime starting a replica the engine will not start', () => {
  it('answers the replica as exited, with the reason, when the engine refuses the start', async () => {
    const runtime = new DockerRuntime(engineFailingStart({ statusCode: 500 }), 'berth');
    expect(await runtime.startReplica(spec)).toMatchObject({
      id: 'c1',
      state: 'exited',
      exitCode: 128,
      exitReason: 'driver failed programming external connectivity on endpoint',
      endpoint: null,
    });
  });

  it('answers unavailable when the engine went away during the start', async () => {
    const runtime = new DockerRuntime(engineFailingStart({ code: 'ECONNREFUSED' }), 'berth');
    await expect(runtime.startReplica(spec)).rejects.toBeInstanceOf(UnavailableError);
  });
});
