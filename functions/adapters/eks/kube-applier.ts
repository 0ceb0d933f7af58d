import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Manifest } from './manifests.ts';
import { FIELD_MANAGER } from './manifests.ts';

export interface ClusterAccess {
  /** The API server, e.g. from EKS DescribeCluster. */
  server: string;
  /** Base64 PEM of the cluster CA (EKS DescribeCluster's certificateAuthority.data). */
  caData: string;
  token: () => Promise<string>;
}

/**
 * Talks to a cluster's API server through @kubernetes/client-node: server-side apply as field manager `berth`
 * (forced: Berth owns the fields it sets), and one pod list per namespace for observation.
 */
export class KubeApplier {
  private current: { token: string; objects: KubernetesObjectApi; core: CoreV1Api } | undefined;

  constructor(private readonly access: ClusterAccess) {}

  /** Clients for the current token; rebuilt when the token rotates. */
  private async clients() {
    const token = await this.access.token();
    if (this.current?.token === token) return this.current;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [
        { name: 'berth', server: this.access.server, caData: this.access.caData, skipTLSVerify: false },
      ],
      users: [{ name: 'berth', token }],
      contexts: [{ name: 'berth', cluster: 'berth', user: 'berth' }],
      currentContext: 'berth',
    });
    this.current = {
      token,
      objects: KubernetesObjectApi.makeApiClient(config),
      core: config.makeApiClient(CoreV1Api),
    };
    return this.current;
  }

  async apply(manifests: Manifest[]): Promise<void> {
    const { objects } = await this.clients();
    for (const manifest of manifests) {
      await objects.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    }
  }

  /** Every pod of a namespace Berth manages, in one list call. */
  async pods(namespace: string): Promise<V1Pod[]> {
    const { core } = await this.clients();
    const list = await core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/managed-by=${FIELD_MANAGER}`,
    });
    return list.items;
  }
}
