import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { replicaNetwork } from '../../functions/adapters/docker/replica-network.ts';
import { ensureEngineOnThisMachine, ensureLinux } from '../../functions/local/engine-network.ts';

describe('the Docker Engine local mode runs on', () => {
  const docker = new Docker();

  it("is this machine's, whose bridge is one of its interfaces", async () => {
    await expect(ensureEngineOnThisMachine(docker)).resolves.toBeUndefined();
  });

  it('is refused where no address of this machine is in its network, as with an engine in a VM', async () => {
    const network = await docker.getNetwork(await replicaNetwork(docker)).inspect();
    const subnets = (network.IPAM?.Config ?? []).map(({ Subnet }) => Subnet).join(', ');
    // A machine whose addresses are its loopback ones and one on another network, as a Mac beside Docker Desktop's VM.
    const elsewhere = ['127.0.0.1', '::1', '192.168.1.20'];
    await expect(ensureEngineOnThisMachine(docker, elsewhere)).rejects.toThrow(
      `the Docker Engine Berth talks to does not run on this machine's network: no address of this machine is in its network ${network.Name} (${subnets}), as a bridge's is when the engine runs here. Local mode reaches app containers at their addresses on the engine's bridge`,
    );
  });

  it('is told to be on Linux on another platform, whose Docker runs containers in a VM', () => {
    expect(() => ensureLinux('linux')).not.toThrow();
    expect(() => ensureLinux('darwin')).toThrow(
      "Berth's local mode runs on Linux, not darwin. Local mode reaches app containers at their addresses",
    );
  });
});
