import Docker from 'dockerode';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import type { Replica } from '../../functions/core/ports.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("sampling a replica's CPU and memory on Docker Engine", () => {
  const containers: Docker.Container[] = [];
  afterEach(async () => {
    for (const container of containers.splice(0)) await container.remove({ force: true });
  });

  it("measures a sample against the previous one, from the engine's one-shot answer", async () => {
    const docker = new Docker();
    const asked: unknown[] = [];
    const getContainer = docker.getContainer.bind(docker);
    docker.getContainer = (id) => {
      const container = getContainer(id);
      const stats = container.stats.bind(container) as (options: object) => Promise<unknown>;
      container.stats = ((options: object) => {
        asked.push(options);
        return stats(options);
      }) as typeof container.stats;
      return container;
    };
    const container = await docker.createContainer({
      Image: inject('testImage'),
      Cmd: ['sh', '-c', 'while :; do :; done'],
      HostConfig: { NanoCpus: 0.5e9, Memory: 512 * 1024 * 1024 },
    });
    containers.push(container);
    await container.start();
    const runtime = new DockerRuntime(docker, 'berth');
    const replica = { id: container.id } as Replica;

    const first = await runtime.replicaStats([replica]);
    await sleep(1500);
    const second = await runtime.replicaStats([replica]);

    expect(asked).toEqual([
      { stream: false, 'one-shot': false },
      { stream: false, 'one-shot': true },
    ]);
    for (const { windowSeconds, stats } of [first, second]) {
      expect(windowSeconds).toBeGreaterThanOrEqual(1);
      expect(windowSeconds).toBeLessThan(60);
      // A busy loop uses some CPU over any span, and the engine counts its memory.
      expect(stats.get(container.id)?.cpuPercent).toBeGreaterThan(0);
      expect(stats.get(container.id)?.memoryMiB).toBeGreaterThan(0);
    }
  });
});
