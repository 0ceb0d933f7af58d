import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ListHostedZonesByVPCCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { awsApiDeps } from '../../../functions/shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../../../functions/shared/aws-config.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { stubLambdaCredentials } from '../../support/aws-fixtures.ts';
import { EKS_LAMBDA_ENV, LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

const eks = mockClient(EKSClient);
const route53 = mockClient(Route53Client);

/** The private domains the API's image check reads, as its composition root builds them for an install. */
const apiDeps = (env: Record<string, string>) =>
  awsApiDeps(readAwsRuntimeConfig(env), { error: () => {} }, { record: () => {} });
const apiHosts = async (env: Record<string, string>) => (await apiDeps(env)).hosts;

/** The cluster as DescribeCluster shows it once it is active, in the VPC `vpcId` when it names one. */
const activeCluster = (vpcId?: string) => ({
  cluster: {
    name: 'corp-apps',
    endpoint: 'https://corp-apps.example.eks.amazonaws.com',
    certificateAuthority: { data: 'Q0E=' },
    ...(vpcId ? { resourcesVpcConfig: { vpcId } } : {}),
  },
});

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
    vi.unstubAllEnvs();
  });

  it("are the zones of Berth's VPC when the install offers Fargate alone", async () => {
    zonesByVpc({ 'vpc-1': 'fargate.example.com.' });
    const domains = await apiHosts(LAMBDA_ENV);
    expect(await domains.privateDomainOf('r.fargate.example.com')).toBe('fargate.example.com');
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 0);
  });

  it("are those of the EKS cluster's VPC too, which an operator's cluster has of its own", async () => {
    eks.on(DescribeClusterCommand, { name: 'corp-apps' }).resolves(activeCluster('vpc-corp'));
    zonesByVpc({ 'vpc-1': 'fargate.example.com.', 'vpc-corp': 'corp.example.com.' });
    const domains = await apiHosts(EKS_LAMBDA_ENV);
    expect(await domains.privateDomainOf('registry.corp.example.com')).toBe('corp.example.com');
    expect(await domains.privateDomainOf('r.fargate.example.com')).toBe('fargate.example.com');
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 2);
  });

  it('fail to load when the cluster names no VPC, rather than check without it', async () => {
    eks.on(DescribeClusterCommand).resolves(activeCluster());
    const domains = await apiHosts(EKS_LAMBDA_ENV);
    await expect(domains.privateDomainOf('registry.corp.example.com')).rejects.toThrow(
      'EKS cluster corp-apps has no VPC yet',
    );
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 0);
  });

  it("come from the same DescribeCluster as the EKS replica view's access to the cluster", async () => {
    const kube = await startFakeKubeApi();
    try {
      stubLambdaCredentials();
      eks
        .on(DescribeClusterCommand, { name: 'corp-apps' })
        .resolves(kube.describedAs('corp-apps', 'vpc-corp'));
      zonesByVpc({ 'vpc-1': 'fargate.example.com.', 'vpc-corp': 'corp.example.com.' });
      const deps = await apiDeps(EKS_LAMBDA_ENV);
      expect(await deps.views?.eks?.runtime.listReplicas({ tenantId: 'acme' })).toEqual([]);
      expect(kube.requests.map((r) => r.authorization?.slice(0, 18))).toContain('Bearer k8s-aws-v1.');
      expect(await deps.hosts.privateDomainOf('registry.corp.example.com')).toBe('corp.example.com');
      expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
    } finally {
      await kube.close();
    }
  });
});
