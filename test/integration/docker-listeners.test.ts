import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { NetHealthProbe } from '../../functions/adapters/probe/net-health-probe.ts';
import type { Replica } from '../../functions/core/ports.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

describe('why nothing reaches a replica on Docker Engine', () => {
  const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`);
  const started: Replica[] = [];
  afterEach(async () => {
    for (const replica of started.splice(0)) await runtime.removeReplica(replica.id);
  });

  /** A replica of the test image on port 8080 (in `slot`) running `command`. */
  async function replicaRunning(command: string[], slot = 0) {
    const replica = await runtime.startReplica({ ...WEB_REPLICA, image: inject('testImage'), command, slot });
    started.push(replica);
    return replica;
  }

  /** What the runtime tells of `replica` once it is `expected`, or after 5 s: its servers take a moment to listen. */
  async function toldOf(replica: Replica, expected: string | undefined) {
    let told = await runtime.unreachableBecause(replica);
    for (let i = 0; i < 50 && told !== expected; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      told = await runtime.unreachableBecause(replica);
    }
    return told;
  }

  /** What its health check's probe of its port says. */
  const probeOf = (replica: Replica) =>
    new NetHealthProbe().probe(replica.endpoint ?? { host: '', port: 0 }, { timeoutSeconds: 1 });

  it('tells an app that listens on the loopback address inside its container, as development servers do', async () => {
    const replica = await replicaRunning(['httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/']);
    const loopbackOnly =
      'it listens on 127.0.0.1:8080 inside its container, which nothing outside the container reaches: listen on 0.0.0.0';
    expect(await toldOf(replica, loopbackOnly)).toBe(loopbackOnly);
    expect(await probeOf(replica)).toEqual({
      ok: false,
      why: 'TCP connect to port 8080: connection refused',
    });
  });

  it('tells an app that listens on other ports than its own, or on none', async () => {
    const other = await replicaRunning(['sh', '-c', 'httpd -p 9090 -h / && httpd -f -p 5000 -h /']);
    const otherPorts =
      "it listens on port 5000, 9090, not on 8080, the app's port, which it is given as PORT";
    expect(await toldOf(other, otherPorts)).toBe(otherPorts);
    expect((await probeOf(other)).ok).toBe(false);
    const none = await replicaRunning(['sleep', '600'], 1);
    expect(await runtime.unreachableBecause(none)).toBe(
      'nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck.gracePeriodSeconds',
    );
  });

  it('tells nothing of an app that listens on its port for everyone, whatever else fails its checks', async () => {
    const replica = await replicaRunning(['httpd', '-f', '-p', '8080', '-h', '/']);
    expect(await toldOf(replica, undefined)).toBeUndefined();
    expect(await probeOf(replica)).toEqual({ ok: true });
  });
});
