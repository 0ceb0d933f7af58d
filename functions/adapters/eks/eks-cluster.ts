import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import type { EksTokenCache } from './eks-token.ts';
import type { ClusterAccess } from './kube-client.ts';

/** What Berth reads of its EKS cluster: where its API server is, the CA that signs it, and the VPC of its pods. */
export interface DescribedCluster {
  server: string;
  caData: string;
  vpcId: string;
}

/**
 * The cluster's DescribeCluster, asked once and then kept for all that reads it: neither endpoint, CA nor VPC
 * changes while the cluster lives. A failed call, or a cluster still being created (without all three), is asked
 * again next time.
 */
export function describedCluster(
  eks: EKSClient,
  clusterName: string,
  retry: RetryOptions = {},
): () => Promise<DescribedCluster> {
  let described: Promise<DescribedCluster> | undefined;
  const describe = async () => {
    const { cluster } = await withThrottlingRetry(
      () => eks.send(new DescribeClusterCommand({ name: clusterName })),
      retry,
    );
    const server = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    const vpcId = cluster?.resourcesVpcConfig?.vpcId;
    if (!server || !caData || !vpcId) {
      const missing = [!server && 'endpoint', !caData && 'CA', !vpcId && 'VPC'].filter(Boolean);
      throw new Error(`EKS cluster ${clusterName} has no ${missing.join(', ')} yet`);
    }
    return { server, caData, vpcId };
  };
  return () =>
    (described ??= describe().catch((err) => {
      described = undefined; // ask again next time
      throw err;
    }));
}

/** Access to an EKS cluster: its endpoint and CA, with a fresh-enough bearer token on every call. */
export function eksClusterAccess(
  cluster: () => Promise<DescribedCluster>,
  tokens: EksTokenCache,
): ClusterAccess {
  return async () => {
    const { server, caData } = await cluster();
    return { server, caData, token: await tokens.token() };
  };
}
