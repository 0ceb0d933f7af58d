import { Route53Client } from '@aws-sdk/client-route-53';
import { VpcPrivateDomains } from '../adapters/route53/vpc-private-domains.ts';
import type { AwsRuntimeConfig } from './aws-config.ts';

/** The private hosted zones of the VPC the apps' tasks run in, which the API reads before it lets an image in. */
export function vpcPrivateDomains(config: AwsRuntimeConfig): VpcPrivateDomains {
  return new VpcPrivateDomains(new Route53Client({}), { id: config.BERTH_VPC_ID, region: config.AWS_REGION });
}
