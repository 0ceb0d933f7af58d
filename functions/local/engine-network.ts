import { BlockList, isIPv6 } from 'node:net';
import type Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { replicaNetwork } from '../adapters/docker/replica-network.ts';
import { localAddresses } from '../adapters/linux/local-addresses.ts';

/** Where local mode runs: an engine on this machine's kernel and in its network, whose bridges are its interfaces. */
const WHERE_LOCAL_MODE_RUNS =
  "Local mode reaches app containers at their addresses on the engine's bridge, and the engine pulls from the registry on 127.0.0.1, so Docker Engine must run on the Linux machine Berth runs on: run Berth where the engine runs (on its host, in WSL 2 or a Lima or Colima VM with Docker Engine installed there, or in a dev container with Docker in Docker), not beside Docker Desktop, rootless Docker, a remote DOCKER_HOST or a host's engine whose socket is shared with Berth's container";

const family = (address: string) => (isIPv6(address) ? 'ipv6' : 'ipv4');

/**
 * What of a network this machine has where the engine runs here, as a list to check its addresses against: the
 * network's gateways (the bridge's own addresses), or, where the engine names none, its subnets; `known` false where
 * the engine names neither.
 */
function engineSide(configs: { Subnet?: string; Gateway?: string }[]) {
  const gateways = configs.flatMap(({ Gateway }) => (Gateway ? [Gateway] : []));
  const subnets = configs.flatMap(({ Subnet }) => (Subnet ? [Subnet] : []));
  const list = new BlockList();
  if (gateways.length > 0) {
    for (const gateway of gateways) list.addAddress(gateway, family(gateway));
    const told = `gateway (${gateways.join(', ')}) is not one of this machine's addresses, as an engine running here makes it`;
    return { list, told, known: true };
  }
  for (const subnet of subnets) {
    const [network = '', prefix] = subnet.split('/');
    list.addSubnet(network, Number(prefix), family(network));
  }
  const told = `subnet (${subnets.join(', ')}) holds none of this machine's addresses, where an engine running here gives its bridge one`;
  return { list, told, known: subnets.length > 0 };
}

/**
 * Refuses a platform that is not Linux: Docker runs its containers in a Linux VM there, whose bridge the host does
 * not reach.
 */
export function ensureLinux(platform = process.platform): void {
  if (platform === 'linux') return;
  throw new Error(`Berth's local mode runs on Linux, not ${platform}. ${WHERE_LOCAL_MODE_RUNS}.`);
}

/**
 * Refuses an engine whose containers this machine does not reach, or that cannot reach the registry on this machine's
 * 127.0.0.1: one in a VM (Docker Desktop, Colima), in rootless Docker's own network namespace, on another machine, or
 * the host's seen from a container it runs (its socket shared with a dev container, which sits on the host's bridge
 * beside the replicas). An engine on this machine's kernel and network makes each of its bridges one of this
 * machine's interfaces, with the bridge's gateway as its address (Docker's default bridge has 172.17.0.1); where the
 * engine names no gateway, an address in the bridge's subnet is taken for it. A network that names neither tells
 * nothing, and passes. `addresses` are this machine's.
 */
export async function ensureEngineOnThisMachine(docker: Docker, addresses = localAddresses()): Promise<void> {
  const id = await replicaNetwork(docker);
  const network = await answered(() => docker.getNetwork(id).inspect());
  const { list, told, known } = engineSide(network.IPAM?.Config ?? []);
  if (!known || addresses.some((address) => list.check(address, family(address)))) return;
  const engine = process.env.DOCKER_HOST ? `at DOCKER_HOST=${process.env.DOCKER_HOST}` : 'Berth talks to';
  throw new Error(
    `the Docker Engine ${engine} does not run on this machine's network: its network ${network.Name}'s ${told}. ${WHERE_LOCAL_MODE_RUNS}.`,
  );
}
