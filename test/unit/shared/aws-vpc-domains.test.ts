import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ListHostedZonesByVPCCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it } from 'vitest';
import { readAwsRuntimeConfig } from '../../../functions/shared/aws-config.ts';
import { vpcPrivateDomains } from '../../../functions/shared/aws-vpc-domains.ts';
import { LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

const eks = mockClient(EKSClient);
const route53 = mockClient(Route53Client);

/** An install offering EKS on the cluster `corp-apps`, an operator's own. */
const EKS_ENV = {
  ...LAMBDA_ENV,
  BERTH_RUNTIMES: 'fargate,eks',
  BERTH_EKS_CLUSTER: 'corp-apps',
  BERTH_EKS_LOAD_BALANCER_CIDRS: '10.64.0.0/22',
  BERTH_HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
};

/** Each VPC with one private zone of its own. */
function zonesByVpc(zones: Record<string, string>) {
  for (const [vpc, name] of Object.entries(zones)) {
    route53.on(ListHostedZonesByVPCCommand, { VPCId: vpc }).resolves({
      HostedZoneSummaries: [{ HostedZoneId: `Z-${vpc}`, Name: name, Owner: {} }],
      MaxItems: 100,
    });
  }
}

describe("the API's private domains of the apps' networks", () => {
  afterEach(() => {
    eks.reset();
    route53.reset();
  });

  it("are the zones of Berth's VPC when the install offers Fargate alone", async () => {
    zonesByVpc({ 'vpc-1': 'fargate.example.com.' });
    const domains = await vpcPrivateDomains(readAwsRuntimeConfig(LAMBDA_ENV));
    expect(await domains.privateDomainOf('r.fargate.example.com')).toBe('fargate.example.com');
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 0);
  });

  it("are those of the EKS cluster's VPC too, which an operator's cluster has of its own", async () => {
    eks.on(DescribeClusterCommand, { name: 'corp-apps' }).resolves({
      cluster: { name: 'corp-apps', resourcesVpcConfig: { vpcId: 'vpc-corp' } },
    });
    zonesByVpc({ 'vpc-1': 'fargate.example.com.', 'vpc-corp': 'corp.example.com.' });
    const config = readAwsRuntimeConfig(EKS_ENV);
    const domains = await vpcPrivateDomains(config);
    expect(await domains.privateDomainOf('registry.corp.example.com')).toBe('corp.example.com');
    expect(await domains.privateDomainOf('r.fargate.example.com')).toBe('fargate.example.com');
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 2);
  });

  it('fail to load when the cluster names no VPC, rather than check without it', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'corp-apps' } });
    const config = readAwsRuntimeConfig(EKS_ENV);
    await expect(vpcPrivateDomains(config)).rejects.toThrow('EKS cluster corp-apps names no VPC');
  });
});
