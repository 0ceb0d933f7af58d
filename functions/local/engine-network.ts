import { BlockList, isIPv6 } from 'node:net';
import type Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { replicaNetwork } from '../adapters/docker/replica-network.ts';
import { localAddresses } from '../adapters/linux/local-addresses.ts';

/** Where local mode runs: an engine on this machine's kernel, whose bridges are this machine's interfaces. */
const WHERE_LOCAL_MODE_RUNS =
  "Local mode reaches app containers at their addresses on the engine's bridge, and the engine pulls from the registry on 127.0.0.1, so Docker Engine must run on the Linux machine Berth runs on: run Berth where the engine runs (in WSL 2, or a Lima or Colima VM, with Docker Engine installed there), not beside Docker Desktop, rootless Docker or a remote DOCKER_HOST";

const family = (address: string) => (isIPv6(address) ? 'ipv6' : 'ipv4');

/** The subnets of a network's IPAM configuration, as a list an address is checked against. */
function subnetsOf(subnets: string[]): BlockList {
  const list = new BlockList();
  for (const subnet of subnets) {
    const [network = '', prefix] = subnet.split('/');
    list.addSubnet(network, Number(prefix), family(network));
  }
  return list;
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
 * Refuses an engine whose containers this machine does not reach: one in a VM (Docker Desktop, Colima), in rootless
 * Docker's own network namespace, or on another machine. An engine on this machine's kernel makes each of its
 * bridges one of this machine's interfaces, with an address in the bridge's subnet (Docker's default bridge has
 * 172.17.0.1 in 172.17.0.0/16); elsewhere no address of this machine's is in the subnet of the network replicas join.
 * A network whose subnets the engine does not say tells nothing, and passes. `addresses` are this machine's.
 */
export async function ensureEngineOnThisMachine(docker: Docker, addresses = localAddresses()): Promise<void> {
  const id = await replicaNetwork(docker);
  const network = await answered(() => docker.getNetwork(id).inspect());
  const subnets = (network.IPAM?.Config ?? []).flatMap(({ Subnet }) => (Subnet ? [Subnet] : []));
  const reached = subnetsOf(subnets);
  if (subnets.length === 0 || addresses.some((address) => reached.check(address, family(address)))) return;
  const engine = process.env.DOCKER_HOST ? `at DOCKER_HOST=${process.env.DOCKER_HOST}` : 'Berth talks to';
  throw new Error(
    `the Docker Engine ${engine} does not run on this machine's network: no address of this machine is in its network ${network.Name} (${subnets.join(', ')}), as a bridge's is when the engine runs here. ${WHERE_LOCAL_MODE_RUNS}.`,
  );
}
