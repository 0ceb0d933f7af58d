import { EKSClient } from '@aws-sdk/client-eks';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { clusterScope } from '../adapters/eks/cluster-scope.ts';
import { describedCluster, eksClusterAccess } from '../adapters/eks/eks-cluster.ts';
import { EksRuntime, type EksSettings } from '../adapters/eks/eks-runtime.ts';
import { EksTokenCache } from '../adapters/eks/eks-token.ts';
import { KubeClient } from '../adapters/eks/kube-client.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/** The cluster of an install that offers `eks`: the runtime on it, and the VPC its pods resolve names in. */
export interface EksInstall {
  runtime: EksRuntime;
  /** An operator's cluster may be in a VPC of its own. */
  clusterVpc: () => Promise<string>;
}

/**
 * The EKS cluster of an install that offers `eks`, described once for both. Imported dynamically by the
 * compositions, so an install without EKS never evaluates the Kubernetes client at a cold start.
 */
export function eksInstall(
  config: AwsRuntimeConfig & { BERTH_EKS_CLUSTER: string },
  records?: EksSettings['records'],
): EksInstall {
  const eks = new EKSClient(sdkClientConfig());
  const cluster = describedCluster(eks, config.BERTH_EKS_CLUSTER);
  // The token is signed with the Lambda's own credentials, refreshed by the client as they rotate.
  const tokens = new EksTokenCache(config.BERTH_EKS_CLUSTER, config.AWS_REGION, () =>
    eks.config.credentials(),
  );
  const scope = clusterScope(config.BERTH_INSTALLATION);
  const runtime = new EksRuntime(new KubeClient(eksClusterAccess(cluster, tokens)), {
    scope,
    domain: config.BERTH_APP_DOMAIN,
    balancer: {
      group: config.BERTH_EKS_INGRESS_GROUP ?? scope.ingressGroup,
      idleTimeoutSeconds: config.BERTH_APP_IDLE_TIMEOUT_SECONDS,
      ...(config.BERTH_EKS_ACCESS_LOGS_BUCKET
        ? { accessLogsBucket: config.BERTH_EKS_ACCESS_LOGS_BUCKET }
        : {}),
    },
    loadBalancerCidrs: config.BERTH_EKS_LOAD_BALANCER_CIDRS ?? [],
    fargate: config.BERTH_EKS_FARGATE === 'true',
    ...(records ? { records } : {}),
    clock: { now: () => new Date() },
  });
  return { runtime, clusterVpc: async () => (await cluster()).vpcId };
}
