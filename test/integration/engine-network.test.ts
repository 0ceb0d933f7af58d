import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { replicaNetwork } from '../../functions/adapters/docker/replica-network.ts';
import { ensureEngineOnThisMachine, ensureLinux } from '../../functions/local/engine-network.ts';

describe('the Docker Engine local mode runs on', () => {
  const docker = new Docker();

  /** The network replicas join, and the gateway the engine names for it (the tests' engine names one). */
  async function replicasNetwork() {
    const network = await docker.getNetwork(await replicaNetwork(docker)).inspect();
    const gateway = network.IPAM?.Config?.[0]?.Gateway ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    return { name: network.Name, gateway };
  }

  it("is this machine's, whose bridge is one of its interfaces", async () => {
    await expect(ensureEngineOnThisMachine(docker)).resolves.toBeUndefined();
  });

  it('is refused where its bridge is none of this machine, as with an engine in a VM or on another machine', async () => {
    const { name, gateway } = await replicasNetwork();
    // A machine whose addresses are its loopback ones and one on another network, as a Mac beside Docker Desktop's VM.
    const elsewhere = ['127.0.0.1', '::1', '192.168.1.20'];
    await expect(ensureEngineOnThisMachine(docker, elsewhere)).rejects.toThrow(
      `the Docker Engine Berth talks to does not run on this machine's network: its network ${name}'s gateway (${gateway}) is not one of this machine's addresses, as an engine running here makes it. Local mode reaches app containers at their addresses on the engine's bridge`,
    );
  });

  it("is refused seen from a container on its bridge, as a dev container given the host's engine's socket", async () => {
    const { gateway } = await replicasNetwork();
    // Berth in a container beside the replicas: an address in the bridge's subnet, but not its gateway, and a
    // loopback of its own, where the engine would look for the registry in vain.
    const beside = gateway.replace(/\d+$/, (last) => (last === '200' ? '201' : '200'));
    await expect(ensureEngineOnThisMachine(docker, ['127.0.0.1', beside])).rejects.toThrow(
      `'s gateway (${gateway}) is not one of this machine's addresses, as an engine running here makes it.`,
    );
  });

  it('is told to be on Linux on another platform, whose Docker runs containers in a VM', () => {
    expect(() => ensureLinux('linux')).not.toThrow();
    expect(() => ensureLinux('darwin')).toThrow(
      "Berth's local mode runs on Linux, not darwin. Local mode reaches app containers at their addresses",
    );
  });
});
