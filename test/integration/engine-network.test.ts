import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { replicaNetwork } from '../../functions/adapters/docker/replica-network.ts';
import { interfaceNames } from '../../functions/adapters/linux/network-interfaces.ts';
import {
  bridgeInterfaceOf,
  ensureEngineOnThisMachine,
  ensureLinux,
} from '../../functions/local/engine-network.ts';

describe('the Docker Engine local mode runs on', () => {
  const docker = new Docker();
  const replicasNetwork = async () => docker.getNetwork(await replicaNetwork(docker)).inspect();

  it("is this machine's, whose bridge is one of its interfaces, though no container may be on it", async () => {
    expect(interfaceNames()).toContain(bridgeInterfaceOf(await replicasNetwork()));
    await expect(ensureEngineOnThisMachine(docker)).resolves.toBeUndefined();
  });

  it("is refused where its bridge is none of this machine's interfaces: a VM's engine, or the host's seen from a container", async () => {
    const network = await replicasNetwork();
    const bridge = bridgeInterfaceOf(network);
    // A Mac beside Docker Desktop's VM, or a dev container given the host's engine's socket: a loopback and a NIC.
    await expect(ensureEngineOnThisMachine(docker, ['lo', 'eth0'])).rejects.toThrow(
      `the Docker Engine Berth talks to does not run on this machine's network: its network ${network.Name} is the interface ${bridge} where the engine runs, and this machine has none of that name (it has lo, eth0). Local mode reaches app containers at their addresses on the engine's bridge`,
    );
  });

  it('is told to be on Linux on another platform, whose Docker runs containers in a VM', () => {
    expect(() => ensureLinux('linux')).not.toThrow();
    expect(() => ensureLinux('darwin')).toThrow(
      "Berth's local mode runs on Linux, not darwin. Local mode reaches app containers at their addresses",
    );
  });
});
