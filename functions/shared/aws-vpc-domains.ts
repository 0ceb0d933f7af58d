import { Route53Client } from '@aws-sdk/client-route-53';
import { sdkClientConfig } from '../adapters/aws/client-config.ts';
import { VpcPrivateDomains } from '../adapters/route53/vpc-private-domains.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/**
 * The private hosted zones of the VPCs the apps run in, which the API reads before it lets an image from another
 * registry in: Fargate's, and the EKS cluster's (`clusterVpc`) when the install offers EKS.
 */
export async function vpcPrivateDomains(
  config: AwsRuntimeConfig,
  clusterVpc?: () => Promise<string>,
): Promise<VpcPrivateDomains> {
  const ids = [...new Set([config.BERTH_VPC_ID, ...(clusterVpc ? [await clusterVpc()] : [])])];
  return new VpcPrivateDomains(new Route53Client(sdkClientConfig()), { ids, region: config.AWS_REGION });
}
