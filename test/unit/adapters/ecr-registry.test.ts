import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrRegistry, LIFECYCLE_POLICY } from '../../../functions/adapters/ecr/ecr-registry.ts';

const ecr = mockClient(ECRClient);
const sts = mockClient(STSClient);
const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

function registry() {
  return new EcrRegistry({
    ecr: new ECRClient({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'us-east-1' }),
    host,
    region: 'us-east-1',
    account: '123456789012',
    pushRoleArn: 'arn:aws:iam::123456789012:role/berth-registry-push',
    retry: { sleep: async () => undefined },
  });
}

describe('EcrRegistry', () => {
  beforeEach(() => {
    ecr.reset();
    sts.reset();
  });

  it('creates a scanned, encrypted, tagged repository under berth/<tenant>/ with a lifecycle policy', async () => {
    ecr.on(CreateRepositoryCommand).resolves({ repository: { createdAt: new Date('2026-11-22T10:00:00Z') } });
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    const repo = await registry().createRepository('acme', 'web');
    expect(repo).toEqual({
      name: 'web',
      uri: `${host}/berth/acme/web`,
      createdAt: '2026-11-22T10:00:00.000Z',
    });
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, {
      repositoryName: 'berth/acme/web',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'AES256' },
      tags: [
        { Key: 'berth:tenant', Value: 'acme' },
        { Key: 'berth:repository', Value: 'web' },
      ],
    });
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, {
      repositoryName: 'berth/acme/web',
      lifecyclePolicyText: LIFECYCLE_POLICY,
    });
  });

  it('maps an existing repository to 409 repository.exists', async () => {
    ecr
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }));
    await expect(registry().createRepository('acme', 'web')).rejects.toMatchObject({
      code: 'repository.exists',
    });
  });

  it('logs a tenant in with an STS session scoped to its own repositories', async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'AKIA',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date('2026-11-22T11:00:00Z'),
      },
    });
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:ecr-password').toString('base64'),
          expiresAt: new Date('2026-11-22T22:00:00Z'),
        },
      ],
    });
    const login = await registry().login('acme');
    expect(login).toEqual({
      registry: host,
      username: 'AWS',
      password: 'ecr-password',
      expiresAt: '2026-11-22T22:00:00.000Z',
    });
    const assumed = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(assumed).toMatchObject({ RoleSessionName: 'berth-acme', DurationSeconds: 3600 });
    const policy = JSON.parse(assumed?.Policy ?? '{}') as {
      Statement: { Action: unknown; Resource: string }[];
    };
    expect(policy.Statement.map((s) => s.Resource)).toEqual([
      '*',
      'arn:aws:ecr:us-east-1:123456789012:repository/berth/acme/*',
    ]);
    expect(policy.Statement[0]?.Action).toBe('ecr:GetAuthorizationToken');
  });

  it('resolves tags and digests, and an unknown image to undefined', async () => {
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'berth/acme/web', imageIds: [{ imageTag: 'v1' }] })
      .resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'berth/acme/web', imageIds: [{ imageTag: 'nope' }] })
      .rejects(Object.assign(new Error('no image'), { name: 'ImageNotFoundException' }));
    expect(await registry().resolveDigest('berth/acme/web', 'v1')).toBe('sha256:abc');
    expect(await registry().resolveDigest('berth/acme/web', 'nope')).toBeUndefined();
  });

  it('pages through repositories and keeps only the tenant’s, retrying throttling', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolvesOnce({
        repositories: [
          { repositoryName: 'berth/acme/web', createdAt: new Date(0) },
          { repositoryName: 'berth/beta/web', createdAt: new Date(0) },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({ repositories: [{ repositoryName: 'berth/acme/api', createdAt: new Date(0) }] });
    const repos = await registry().listRepositories('acme');
    expect(repos.map((r) => r.name)).toEqual(['api', 'web']);
    expect(ecr).toHaveReceivedCommandTimes(DescribeRepositoriesCommand, 3);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeRepositoriesCommand, 3, { nextToken: 'page-2' });
  });

  it('deletes a repository with its images (force), and answers false for a missing one', async () => {
    ecr.on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/web' }).resolves({});
    ecr
      .on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/gone' })
      .rejects(Object.assign(new Error('no repository'), { name: 'RepositoryNotFoundException' }));
    expect(await registry().deleteRepository('acme', 'web')).toBe(true);
    expect(ecr).toHaveReceivedCommandWith(DeleteRepositoryCommand, {
      repositoryName: 'berth/acme/web',
      force: true,
    });
    expect(await registry().deleteRepository('acme', 'gone')).toBe(false);
  });

  it('lists images newest first, and undefined for a missing repository', async () => {
    ecr.on(DescribeImagesCommand, { repositoryName: 'berth/acme/web' }).resolves({
      imageDetails: [
        {
          imageDigest: 'sha256:1',
          imageTags: ['v1'],
          imagePushedAt: new Date('2026-11-01T00:00:00Z'),
          imageSizeInBytes: 10,
        },
        {
          imageDigest: 'sha256:2',
          imageTags: ['v2', 'latest'],
          imagePushedAt: new Date('2026-11-02T00:00:00Z'),
          imageSizeInBytes: 20,
        },
      ],
    });
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'berth/acme/gone' })
      .rejects(Object.assign(new Error('gone'), { name: 'RepositoryNotFoundException' }));
    expect(await registry().listImages('acme', 'web')).toEqual([
      { digest: 'sha256:2', tags: ['latest', 'v2'], pushedAt: '2026-11-02T00:00:00.000Z', size: 20 },
      { digest: 'sha256:1', tags: ['v1'], pushedAt: '2026-11-01T00:00:00.000Z', size: 10 },
    ]);
    expect(await registry().listImages('acme', 'gone')).toBeUndefined();
  });
});
