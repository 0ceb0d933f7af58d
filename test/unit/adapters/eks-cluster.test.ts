import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it } from 'vitest';
import { describedCluster, eksClusterAccess } from '../../../functions/adapters/eks/eks-cluster.ts';
import { EksTokenCache } from '../../../functions/adapters/eks/eks-token.ts';

const eks = mockClient(EKSClient);
const NO_WAIT = { sleep: async () => {} };

const ACTIVE = {
  cluster: {
    name: 'berth-apps',
    status: 'ACTIVE' as const,
    endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
    certificateAuthority: { data: 'Q0E=' },
    resourcesVpcConfig: { vpcId: 'vpc-apps' },
  },
};
const CREATING = {
  cluster: { name: 'berth-apps', status: 'CREATING' as const, resourcesVpcConfig: { vpcId: 'vpc-apps' } },
};

const tokens = () =>
  new EksTokenCache('berth-apps', 'eu-west-1', async () => ({
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  }));

describe('the EKS cluster, as DescribeCluster shows it', () => {
  afterEach(() => {
    eks.reset();
  });

  it('is asked once for the API server, its CA and the VPC, however many read them and however often', async () => {
    eks.on(DescribeClusterCommand, { name: 'berth-apps' }).resolves(ACTIVE);
    const cluster = describedCluster(new EKSClient({}), 'berth-apps', NO_WAIT);
    const access = eksClusterAccess(cluster, tokens());
    const [first, described] = await Promise.all([access(), cluster()]);
    expect(first).toMatchObject({ server: ACTIVE.cluster.endpoint, caData: 'Q0E=' });
    expect(first.token).toMatch(/^k8s-aws-v1\./);
    expect(described.vpcId).toBe('vpc-apps');
    await access();
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
  });

  it('is asked again while the cluster is still being created, and after a call that failed', async () => {
    eks
      .on(DescribeClusterCommand)
      .resolvesOnce(CREATING)
      .rejectsOnce(Object.assign(new Error('no route'), { name: 'ResourceNotFoundException' }))
      .resolves(ACTIVE);
    const cluster = describedCluster(new EKSClient({}), 'berth-apps', NO_WAIT);
    await expect(cluster()).rejects.toThrow('EKS cluster berth-apps has no endpoint, CA yet');
    await expect(cluster()).rejects.toThrow('no route');
    expect((await cluster()).server).toBe(ACTIVE.cluster.endpoint);
    await cluster();
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 3);
  });

  it('is asked again when the call is throttled', async () => {
    eks
      .on(DescribeClusterCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves(ACTIVE);
    const cluster = describedCluster(new EKSClient({}), 'berth-apps', NO_WAIT);
    expect((await cluster()).vpcId).toBe('vpc-apps');
    expect(eks).toHaveReceivedCommandTimes(DescribeClusterCommand, 2);
  });
});
