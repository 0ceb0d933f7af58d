import type Docker from 'dockerode';
import { statusOf } from './docker-errors.ts';
import { type Answered, answered as engineAnswered } from './engine-answer.ts';

/** Berth's apps network, which every installation on an engine that lets containers reach one another shares. */
export const APPS_NETWORK = 'berth-apps';

/** The label that tells Berth's network from another of the same name. */
const APPS_NETWORK_LABEL = { 'berth.network': 'apps' };

/** A bridge's option: 'false' when its containers cannot reach one another (the engine drops it, with iptables). */
const INTER_CONTAINER_TRAFFIC = 'com.docker.network.bridge.enable_icc';

const isolated = (network: { Options?: Record<string, string> | null }) =>
  network.Options?.[INTER_CONTAINER_TRAFFIC] === 'false';

async function berthNetworkId(docker: Docker, answered: Answered): Promise<string | undefined> {
  const label = Object.entries(APPS_NETWORK_LABEL).map(([name, value]) => `${name}=${value}`);
  const networks = await answered((abortSignal) => docker.listNetworks({ filters: { label }, abortSignal }));
  return networks.find(isolated)?.Id;
}

/**
 * The network replicas join, where no replica reaches another — another tenant's or its own app's — as in AWS mode,
 * where the apps' security group admits only the load balancer; the host (the ingress) reaches every one:
 * - Docker's default bridge, when the engine keeps its containers apart (`dockerd --icc=false`, as Berth starts it);
 * - else Berth's own apps network (`appsNetworkId`). A container starts on it about 50 ms later than on the default
 *   bridge: the engine sets up its embedded DNS in each one.
 */
export async function replicaNetwork(docker: Docker, answered = engineAnswered): Promise<string> {
  // An engine started with `--bridge=none` has no default bridge.
  const bridge = await answered(() => docker.getNetwork('bridge').inspect()).catch((err) =>
    statusOf(err) === 404 ? undefined : Promise.reject(err),
  );
  return bridge && isolated(bridge) ? 'bridge' : appsNetworkId(docker, answered);
}

/**
 * The id of Berth's apps network, made when missing: a bridge without inter-container traffic. Processes that make
 * it at once may each make one; any of them isolates as well.
 */
export async function appsNetworkId(docker: Docker, answered = engineAnswered): Promise<string> {
  const existing = await berthNetworkId(docker, answered);
  if (existing) return existing;
  try {
    const created = await answered((abortSignal) =>
      docker.createNetwork({
        Name: APPS_NETWORK,
        CheckDuplicate: true,
        Driver: 'bridge',
        Options: { [INTER_CONTAINER_TRAFFIC]: 'false' },
        Labels: APPS_NETWORK_LABEL,
        abortSignal,
      }),
    );
    return created.id;
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
  // 409: a network of that name exists — made by another process just now, or not Berth's.
  const made = await berthNetworkId(docker, answered);
  if (made) return made;
  throw new Error(
    `a Docker network named ${APPS_NETWORK} exists that is not Berth's isolated apps network; remove it ("docker network rm ${APPS_NETWORK}") and Berth makes its own`,
  );
}
