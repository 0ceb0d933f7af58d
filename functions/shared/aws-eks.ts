import { EKSClient } from '@aws-sdk/client-eks';
import { eksClusterVpc as clusterVpc, eksClusterAccess } from '../adapters/eks/eks-cluster.ts';
import { EksRuntime, type EksSettings } from '../adapters/eks/eks-runtime.ts';
import { EksTokenCache } from '../adapters/eks/eks-token.ts';
import { KubeClient } from '../adapters/eks/kube-client.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/**
 * The EKS runtime of an install that offers `eks`. Imported dynamically by the compositions in aws.ts, so an
 * install without EKS never evaluates the Kubernetes client at a cold start.
 */
export function eksRuntime(
  config: AwsRuntimeConfig & { BERTH_EKS_CLUSTER: string },
  records?: EksSettings['records'],
): EksRuntime {
  const eks = new EKSClient({});
  const cluster = config.BERTH_EKS_CLUSTER;
  // The token is signed with the Lambda's own credentials, refreshed by the client as they rotate.
  const tokens = new EksTokenCache(cluster, config.AWS_REGION, () => eks.config.credentials());
  return new EksRuntime(new KubeClient(eksClusterAccess(eks, cluster, tokens)), {
    domain: config.BERTH_APP_DOMAIN,
    ingressGroup: config.BERTH_EKS_INGRESS_GROUP,
    loadBalancerCidrs: config.BERTH_EKS_LOAD_BALANCER_CIDRS ?? [],
    fargate: config.BERTH_EKS_FARGATE === 'true',
    ...(records ? { records } : {}),
    clock: { now: () => new Date() },
  });
}

/** The VPC the install's cluster runs pods in: an operator's cluster may be in a VPC of its own. */
export function eksClusterVpc(config: AwsRuntimeConfig & { BERTH_EKS_CLUSTER: string }): Promise<string> {
  return clusterVpc(new EKSClient({}), config.BERTH_EKS_CLUSTER);
}
