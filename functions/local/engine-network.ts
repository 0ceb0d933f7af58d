import type Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { replicaNetwork } from '../adapters/docker/replica-network.ts';
import { interfaceNames } from '../adapters/linux/network-interfaces.ts';

/** Where local mode runs: an engine on this machine's kernel and in its network, whose bridges are its interfaces. */
const WHERE_LOCAL_MODE_RUNS =
  "Local mode reaches app containers at their addresses on the engine's bridge, and the engine pulls from the registry on 127.0.0.1, so Docker Engine must run on the Linux machine Berth runs on: run Berth where the engine runs (on its host, in WSL 2 or a Lima or Colima VM with Docker Engine installed there, or in a dev container with Docker in Docker), not beside Docker Desktop, rootless Docker, a remote DOCKER_HOST or a host's engine whose socket is shared with Berth's container";

/** The option that names a bridge network's interface; without it the engine names it `br-` and the id's first 12. */
const BRIDGE_NAME = 'com.docker.network.bridge.name';

/** The name of the interface a bridge network is on the machine of the engine that made it. */
export const bridgeInterfaceOf = (network: { Id: string; Options?: Record<string, string> | null }) =>
  network.Options?.[BRIDGE_NAME] ?? `br-${network.Id.slice(0, 12)}`;

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
 * the host's seen from a container (its socket shared with a dev container, which sits on the host's bridge beside the
 * replicas). An engine on this machine's kernel and network makes each of its bridges one of this machine's
 * interfaces (Docker's default bridge is `docker0`); elsewhere the bridge replicas join is none of them. `interfaces`
 * are this machine's, by name.
 */
export async function ensureEngineOnThisMachine(
  docker: Docker,
  interfaces = interfaceNames(),
): Promise<void> {
  const id = await replicaNetwork(docker);
  const network = await answered(() => docker.getNetwork(id).inspect());
  const bridge = bridgeInterfaceOf(network);
  if (interfaces.includes(bridge)) return;
  const engine = process.env.DOCKER_HOST ? `at DOCKER_HOST=${process.env.DOCKER_HOST}` : 'Berth talks to';
  throw new Error(
    `the Docker Engine ${engine} does not run on this machine's network: its network ${network.Name} is the interface ${bridge} where the engine runs, and this machine has none of that name (it has ${interfaces.join(', ')}). ${WHERE_LOCAL_MODE_RUNS}.`,
  );
}
