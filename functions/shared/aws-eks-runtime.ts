import type { EksSettings } from '../adapters/eks/eks-runtime.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/**
 * The install's EKS cluster when it offers one (aws-eks.ts); its module is only evaluated then. The CDK app bundles
 * an install without EKS with BERTH_EKS_BUNDLED defined as "false", so its bundles leave the Kubernetes client out
 * entirely. `records` only for the reconcile worker, which points apps' names (the others only read).
 */
export async function eksInstallOf(config: AwsRuntimeConfig, records?: EksSettings['records']) {
  const cluster = config.BERTH_EKS_CLUSTER;
  if (!cluster) return undefined;
  // A conditional expression, not an early return: esbuild drops an import() only from a branch it folds away.
  const module = process.env.BERTH_EKS_BUNDLED === 'false' ? undefined : await import('./aws-eks.ts');
  if (!module)
    throw new Error('this bundle was built for an install without EKS; deploy again with eks configured');
  return module.eksInstall({ ...config, BERTH_EKS_CLUSTER: cluster }, records);
}

/** The EKS runtime when the install offers it. */
export async function eksRuntimeOf(config: AwsRuntimeConfig, records?: EksSettings['records']) {
  return (await eksInstallOf(config, records))?.runtime;
}
