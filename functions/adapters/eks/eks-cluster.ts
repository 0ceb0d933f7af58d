import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import type { EksTokenCache } from './eks-token.ts';
import type { ClusterAccess } from './kube-client.ts';

/**
 * Access to an EKS cluster: endpoint and CA from DescribeCluster (asked once, then cached: neither changes while
 * the cluster lives), with a fresh-enough bearer token on every call.
 */
export function eksClusterAccess(eks: EKSClient, clusterName: string, tokens: EksTokenCache): ClusterAccess {
  let described: Promise<{ server: string; caData: string }> | undefined;
  const describe = async () => {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: clusterName }));
    const server = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (!server || !caData) throw new Error(`EKS cluster ${clusterName} has no endpoint or CA yet`);
    return { server, caData };
  };
  return async () => {
    described ??= describe().catch((err) => {
      described = undefined; // ask again next time
      throw err;
    });
    return { ...(await described), token: await tokens.token() };
  };
}

/** The VPC a cluster runs its nodes and pods in, from DescribeCluster. */
export async function eksClusterVpc(
  eks: EKSClient,
  clusterName: string,
  retry: RetryOptions = {},
): Promise<string> {
  const { cluster } = await withThrottlingRetry(
    () => eks.send(new DescribeClusterCommand({ name: clusterName })),
    retry,
  );
  const vpcId = cluster?.resourcesVpcConfig?.vpcId;
  if (!vpcId) throw new Error(`EKS cluster ${clusterName} names no VPC`);
  return vpcId;
}
