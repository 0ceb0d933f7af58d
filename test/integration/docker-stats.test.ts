import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import type { Replica } from '../../functions/core/ports.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';
import { wrapContainers } from '../support/wrap-containers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Docker client that keeps the options of each stats call asked of it. */
function streamCountingDocker() {
  const streams: unknown[] = [];
  const docker = wrapContainers(new Docker(), (container) => {
    const stats = container.stats.bind(container) as (options: object) => Promise<unknown>;
    container.stats = ((options: object) => {
      streams.push(options);
      return stats(options);
    }) as typeof container.stats;
  });
  return { docker, streams };
}

describe("sampling a replica's CPU and memory on Docker Engine", () => {
  const containers: Docker.Container[] = [];
  const runtimes: DockerRuntime[] = [];
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) runtime.close();
    for (const container of containers.splice(0)) await container.remove({ force: true });
  });

  /** A runtime whose engine counts the stats streams it is asked for; a busy container of 0.5 vCPU and 512 MiB. */
  async function busyReplica() {
    const { docker, streams } = streamCountingDocker();
    const container = await docker.createContainer({
      Image: inject('testImage'),
      Cmd: ['sh', '-c', 'while :; do :; done'],
      HostConfig: { NanoCpus: 0.5e9, Memory: 512 * 1024 * 1024 },
    });
    containers.push(container);
    await container.start();
    const runtime = new DockerRuntime(docker, 'berth');
    runtimes.push(runtime);
    const replica = { id: container.id, cpu: 0.5, memoryMiB: 512 } as Replica;
    return { runtime, replica, container, streams };
  }

  it('samples a replica from one stats stream, over as much of the window as the stream has seen', async () => {
    const { runtime, replica, streams } = await busyReplica();

    const first = await runtime.replicaStats([replica], 900);
    await sleep(2500);
    const second = await runtime.replicaStats([replica], 900);

    expect(streams).toEqual([{ stream: true, abortSignal: expect.any(AbortSignal) }]);
    // Its first sample spans the stream's first two readings, a second apart (more when the engine is busy).
    expect(first.windowSeconds).toBeGreaterThanOrEqual(1);
    expect(first.windowSeconds).toBeLessThanOrEqual(2);
    expect(second.windowSeconds).toBeGreaterThanOrEqual(3);
    expect(second.windowSeconds).toBeLessThan(60);
    for (const { stats } of [first, second]) {
      // A busy loop uses some CPU over any span, and the engine counts its memory.
      expect(stats.get(replica.id)?.cpuPercent).toBeGreaterThan(0);
      expect(stats.get(replica.id)?.memoryMiB).toBeGreaterThan(0);
    }
  });

  it('has no sample of a stopped replica, and opens a stream again once it runs', async () => {
    const { runtime, replica, container, streams } = await busyReplica();
    await runtime.replicaStats([replica]);

    await container.stop({ t: 0 });
    // The stream of a stopped container sends an empty frame at the engine's next round of readings, and ends.
    await vi.waitFor(async () => expect((await runtime.replicaStats([replica])).stats.size).toBe(0), {
      timeout: 5000,
      interval: 250,
    });
    const whileStopped = streams.length;
    await container.start();
    const started = await runtime.replicaStats([replica]);

    expect(started.stats.get(replica.id)?.memoryMiB).toBeGreaterThan(0);
    expect(streams).toHaveLength(whileStopped + 1);
  });

  it('watches each running replica it lists: one an earlier process started answers its first sample at once', async () => {
    const installation = `t-${randomUUID()}`;
    const earlier = new DockerRuntime(new Docker(), installation);
    runtimes.push(earlier);
    const started = await earlier.startReplica({ ...WEB_REPLICA, image: inject('testImage') });
    containers.push(new Docker().getContainer(started.id));
    const { docker, streams } = streamCountingDocker();
    const runtime = new DockerRuntime(docker, installation);
    runtimes.push(runtime);

    const [replica] = await runtime.listReplicas();
    expect(streams).toEqual([{ stream: true, abortSignal: expect.any(AbortSignal) }]);
    await sleep(2500);
    const first = await runtime.replicaStats(replica ? [replica] : [], 900);

    expect(first.windowSeconds).toBeGreaterThanOrEqual(1);
    expect(first.stats.get(started.id)?.memoryMiB).toBeGreaterThan(0);
    expect(streams).toHaveLength(1);
  });

  it('has no sample of a replica that is gone', async () => {
    const { runtime, replica, container } = await busyReplica();
    await container.remove({ force: true });
    containers.splice(0);

    expect((await runtime.replicaStats([replica])).stats.size).toBe(0);
  });
});
