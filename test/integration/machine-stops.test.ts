import { randomUUID } from 'node:crypto';
import { uptime } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { bootTime } from '../../functions/adapters/linux/boot-time.ts';
import { eventually } from '../support/ingress-client.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

describe("a replica whose container ended with this machine's stop, on Docker Engine", () => {
  it("is the kernel's boot time that tells it, read from /proc/stat", () => {
    const booted = bootTime();
    expect(booted).toBeDefined();
    // btime is whole seconds, and the clock may have been set since the boot.
    expect(Math.abs((booted ?? 0) - (Date.now() - uptime() * 1000))).toBeLessThan(5_000);
    expect(bootTime('/proc/no-such-file')).toBeUndefined();
  });

  it('is told stopped outside Berth with its stop and exit code not known, where the engine stamped them', async () => {
    const docker = new Docker();
    const installation = `t-${randomUUID()}`;
    const runtime = new DockerRuntime(docker, installation);
    const { id } = await runtime.startReplica({
      ...WEB_REPLICA,
      image: inject('testImage'),
      command: ['sleep', '1'],
    });
    try {
      const exited = await eventually('the replica to exit', async () =>
        (await runtime.listReplicas()).find((r) => r.id === id && r.state === 'exited'),
      );
      expect(exited).toMatchObject({ exitCode: 0, stoppedAt: expect.any(String) });
      expect(exited.stoppedOutside).toBeUndefined();
      // As after a reboot: the machine booted again between the container's start and the stop the engine gave it
      // (as it does when it finds one it had running gone): the moment it restored it, not when it stopped.
      const { State } = await docker.getContainer(id).inspect();
      const rebootedAt = (Date.parse(State.StartedAt) + Date.parse(State.FinishedAt)) / 2;
      const [afterReboot] = await new DockerRuntime(docker, installation, {
        bootedAt: rebootedAt,
      }).listReplicas();
      const why = `this machine stopped while it ran (it booted again at ${new Date(rebootedAt).toISOString()}); when it stopped is not known`;
      expect(afterReboot).toMatchObject({
        id,
        state: 'exited',
        startedAt: exited.startedAt,
        stoppedAt: null,
        exitCode: null,
        stoppedOutside: why,
        exitReason: `stopped outside Berth: ${why}`,
      });
      // A boot before its start, or after its stop (the engine stopped it as the machine shut down), tells nothing.
      for (const bootedAt of [Date.parse(State.StartedAt) - 1000, Date.parse(State.FinishedAt) + 1000]) {
        const [seen] = await new DockerRuntime(docker, installation, { bootedAt }).listReplicas();
        expect(seen).toEqual(exited);
      }
    } finally {
      await runtime.removeReplica(id);
    }
  });
});
