import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sdkClientConfig } from '../../../functions/adapters/aws/client-config.ts';
import { EcrRegistry, LIFECYCLE_POLICY } from '../../../functions/adapters/ecr/ecr-registry.ts';
import { MANIFEST_MEDIA_TYPES, MAX_CONFIG_BYTES } from '../../../functions/adapters/oci/image-platforms.ts';
import { createApp, deleteApp, getAppRecord } from '../../../functions/core/apps.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createRepository } from '../../../functions/core/repositories.ts';
import { createTenant, deleteTenant } from '../../../functions/core/tenants.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import type { MemoryStore } from '../../fakes/memory-store.ts';
import { digestOf } from '../../support/pushed-images.ts';

const ecr = mockClient(ECRClient);
const sts = mockClient(STSClient);
const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

let core: Awaited<ReturnType<typeof fakeCoreDeps>>;
let records: MemoryStore;

function registry(installation = 'berth') {
  return new EcrRegistry({
    ecr: new ECRClient({ region: 'us-east-1' }),
    installation,
    sts: new STSClient({ region: 'us-east-1' }),
    host,
    region: 'us-east-1',
    account: '123456789012',
    pushRoleArn: 'arn:aws:iam::123456789012:role/berth-registry-push',
    retry: { sleep: async () => undefined },
    records,
  });
}

/** Core's deps with the ECR registry over the mocked SDK, on the test's records and tenants. */
const coreOnEcr = () => ({ ...core, registry: registry() });

const created = { repository: { createdAt: new Date('2026-11-22T10:00:00Z') } };
/** STS's answer to the login's AssumeRole: a session ending at 11:00. */
const SESSION = {
  Credentials: {
    AccessKeyId: 'AKIA',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date('2026-11-22T11:00:00Z'),
  },
};
/** ECR's answer for a repository it does not have. */
const noRepository = () => Object.assign(new Error('no repository'), { name: 'RepositoryNotFoundException' });

describe('EcrRegistry', () => {
  beforeEach(async () => {
    ecr.reset();
    sts.reset();
    core = await fakeCoreDeps();
    records = core.store;
    for (const id of ['acme', 'beta']) await createTenant(core, { id, name: id, plan: 'pro' });
  });

  it('creates a scanned, encrypted, tagged repository under berth/<tenant>/ with a lifecycle policy, and records it', async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    const before = new Date().toISOString();
    const repo = await registry().createRepository('acme', 'web');
    expect(repo).toEqual({ name: 'web', uri: `${host}/berth/acme/web`, createdAt: expect.any(String) });
    expect(repo.createdAt >= before && repo.createdAt <= new Date().toISOString()).toBe(true);
    expect(await registry().listRepositories('acme')).toEqual([repo]);
    expect(await records.getRepository('acme', 'web')).toEqual({ ...repo, pending: false });
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

  it('answers 409 repository.exists for a recorded repository, and for the loser of two parallel creates', async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    const results = await Promise.allSettled([
      registry().createRepository('acme', 'web'),
      registry().createRepository('acme', 'web'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({
      reason: { code: 'repository.exists' },
    });
    ecr.resetHistory();
    await expect(registry().createRepository('acme', 'web')).rejects.toMatchObject({
      code: 'repository.exists',
    });
    expect(ecr).not.toHaveReceivedCommand(CreateRepositoryCommand);
  });

  it('records a create as pending first: one that stopped part-way is hidden, and creating it again finishes it', async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr
      .on(PutLifecyclePolicyCommand)
      .rejectsOnce(Object.assign(new Error('bad gateway'), { name: 'ServerException' }))
      .resolves({});
    await expect(registry().createRepository('acme', 'web')).rejects.toMatchObject({
      name: 'ServerException',
    });
    const stopped = await records.getRepository('acme', 'web');
    expect(stopped).toMatchObject({ name: 'web', pending: true });
    expect(await registry().listRepositories('acme')).toEqual([]);
    expect(await registry().listImages('acme', 'web')).toBeUndefined();

    // ECR made it the first time: adopted, its policy set, and the record made, as of the first attempt.
    ecr
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }));
    const repo = await registry().createRepository('acme', 'web');
    expect(repo).toEqual({ name: 'web', uri: `${host}/berth/acme/web`, createdAt: stopped?.createdAt });
    expect(ecr).toHaveReceivedCommandTimes(PutLifecyclePolicyCommand, 2);
    expect(await registry().listRepositories('acme')).toEqual([repo]);
  });

  it('keeps a pending record when ECR fails a create, retrying throttling first; deleting the name removes it', async () => {
    ecr
      .on(CreateRepositoryCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .rejects(Object.assign(new Error('too many'), { name: 'LimitExceededException' }));
    await expect(registry().createRepository('acme', 'web')).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    expect(ecr).toHaveReceivedCommandTimes(CreateRepositoryCommand, 2);
    expect(await registry().listRepositories('acme')).toEqual([]);
    // The failure may have come after ECR made it: what the tenant's deletion goes by still names it.
    expect(await records.listRepositories('acme')).toMatchObject([{ name: 'web', pending: true }]);
    ecr.on(DeleteRepositoryCommand).rejects(noRepository());
    expect(await registry().deleteRepository('acme', 'web')).toBe(true);
    expect(await records.listRepositories('acme')).toEqual([]);
  });

  it('removes what it made in ECR when the repository was deleted while it was being created', async () => {
    ecr.on(CreateRepositoryCommand).callsFake(async () => {
      // The tenant's deletion ran meanwhile: ECR had nothing yet, and the record went.
      await records.deleteRepository('acme', 'web');
      return created;
    });
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    ecr.on(DeleteRepositoryCommand).resolves({});
    await expect(registry().createRepository('acme', 'web')).rejects.toMatchObject({ code: 'conflict' });
    expect(ecr).toHaveReceivedCommandWith(DeleteRepositoryCommand, {
      repositoryName: 'berth/acme/web',
      force: true,
    });
    expect(await records.listRepositories('acme')).toEqual([]);
  });

  it("deletes with its tenant a repository whose create stopped part-way, which the tenant's list does not show", async () => {
    const withEcr = coreOnEcr();
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    await createRepository(withEcr, 'acme', 'web');
    ecr
      .on(PutLifecyclePolicyCommand)
      .rejects(Object.assign(new Error('bad gateway'), { name: 'ServerException' }));
    await expect(createRepository(withEcr, 'acme', 'api')).rejects.toMatchObject({ name: 'ServerException' });
    expect(await withEcr.registry.listRepositories('acme')).toMatchObject([{ name: 'web' }]);

    ecr.on(DeleteRepositoryCommand).resolves({});
    await deleteTenant(withEcr, 'acme');
    expect(
      ecr
        .commandCalls(DeleteRepositoryCommand)
        .map((c) => c.args[0].input.repositoryName)
        .sort(),
    ).toEqual(['berth/acme/api', 'berth/acme/web']);
    expect(await records.listRepositories('acme')).toEqual([]);
  });

  it('logs a tenant in with an STS session scoped to its own repositories', async () => {
    sts.on(AssumeRoleCommand).resolves(SESSION);
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
      // The session's end, before the token's 12 hours: the token stands for the session's credentials.
      expiresAt: '2026-11-22T11:00:00.000Z',
    });
    const assumed = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(assumed).toMatchObject({
      RoleArn: 'arn:aws:iam::123456789012:role/berth-registry-push',
      RoleSessionName: 'berth-acme',
      DurationSeconds: 3600,
    });
    // The session can do no more than this policy allows, whatever the role can.
    expect(JSON.parse(assumed?.Policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        {
          Effect: 'Allow',
          Action: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchGetImage',
            'ecr:GetDownloadUrlForLayer',
            'ecr:InitiateLayerUpload',
            'ecr:UploadLayerPart',
            'ecr:CompleteLayerUpload',
            'ecr:PutImage',
          ],
          Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/berth/acme/*',
        },
      ],
    });
    // ECR's token stands for the credentials that ask for it: the session's, never the API's own.
    const asked = ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.thisValue as ECRClient | undefined;
    expect(await asked?.config.credentials()).toMatchObject({
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
    expect(await asked?.config.region()).toBe('us-east-1');
    // With the timeouts of every AWS client of Berth's: a token ECR never sends is given up on, not waited for.
    const handler = asked?.config.requestHandler as unknown as { configProvider: Promise<object> };
    expect(await handler.configProvider).toMatchObject(sdkClientConfig().requestHandler);
  });

  it("keeps another install's repositories, and its tenants' logins, under its own name", async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'A', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() },
    });
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        { authorizationToken: Buffer.from('AWS:p').toString('base64'), expiresAt: new Date() },
      ],
    });
    const staging = registry('staging');
    expect(await staging.createRepository('acme', 'web')).toMatchObject({ uri: `${host}/staging/acme/web` });
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, { repositoryName: 'staging/acme/web' });
    await staging.login('acme');
    const policy = JSON.parse(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input.Policy ?? '{}') as {
      Statement: { Resource: string }[];
    };
    // Not berth/acme/*: a tenant "acme" of the default install is another party.
    expect(policy.Statement.map((s) => s.Resource)).toEqual([
      '*',
      'arn:aws:ecr:us-east-1:123456789012:repository/staging/acme/*',
    ]);
  });

  it("lists a tenant's repositories from its records, without reading the account's repositories", async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    await registry().createRepository('acme', 'web');
    await registry().createRepository('beta', 'web');
    await registry().createRepository('acme', 'api');
    ecr.resetHistory();
    const repos = await registry().listRepositories('acme');
    expect(repos.map((r) => r.uri)).toEqual([`${host}/berth/acme/api`, `${host}/berth/acme/web`]);
    expect(ecr.calls()).toHaveLength(0);
  });

  it('deletes a repository with its images (force) and its record; false when neither exists', async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    await registry().createRepository('acme', 'web');
    await registry().createRepository('acme', 'api');
    ecr.on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/web' }).resolves({});
    ecr.on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/api' }).rejects(noRepository());
    ecr.on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/gone' }).rejects(noRepository());
    ecr.on(DeleteRepositoryCommand, { repositoryName: 'berth/acme/orphan' }).resolves({});
    expect(await registry().deleteRepository('acme', 'web')).toBe(true);
    expect(ecr).toHaveReceivedCommandWith(DeleteRepositoryCommand, {
      repositoryName: 'berth/acme/web',
      force: true,
    });
    // Deleted in ECR by hand: the record still goes.
    expect(await registry().deleteRepository('acme', 'api')).toBe(true);
    // Left by a create that never got to its record: still deleted by name.
    expect(await registry().deleteRepository('acme', 'orphan')).toBe(true);
    expect(await registry().deleteRepository('acme', 'gone')).toBe(false);
    expect(await records.listRepositories('acme')).toEqual([]);
  });

  it('passes on any other error ECR gives, reading, listing, letting go or deleting: only a missing one is no error', async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    await registry().createRepository('acme', 'web');
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    ecr.on(BatchGetImageCommand).rejects(denied);
    ecr.on(DescribeImagesCommand).rejects(denied);
    ecr.on(BatchDeleteImageCommand).rejects(denied);
    ecr.on(DeleteRepositoryCommand).rejects(denied);
    await expect(registry().imageAt('berth/acme/web', 'v1')).rejects.toThrow(denied);
    await expect(registry().listImages('acme', 'web')).rejects.toThrow(denied);
    await expect(registry().releaseImages('berth/acme/web', ['sha256:1'], 'app_1')).rejects.toThrow(denied);
    await expect(registry().deleteRepository('acme', 'web')).rejects.toThrow(denied);
    // The record stays with the repository ECR would not delete, so deleting it again can finish.
    expect((await records.listRepositories('acme')).map((r) => r.name)).toEqual(['web']);
  });

  it('fails a login STS or ECR answers without credentials; lets go of its client however it ends; an end unsaid is the hour', async () => {
    // Each login's client holds the session's credentials and its own sockets: destroyed when the login ends.
    const destroyed = vi.spyOn(ECRClient.prototype, 'destroy');
    for (const Credentials of [undefined, { ...SESSION.Credentials, SessionToken: undefined }]) {
      sts.on(AssumeRoleCommand).resolves({ Credentials });
      await expect(registry().login('acme')).rejects.toThrow('STS returned no credentials');
    }
    sts.on(AssumeRoleCommand).resolves(SESSION);
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(registry().login('acme')).rejects.toThrow('ECR returned no authorization token');
    expect(destroyed).toHaveBeenCalledTimes(1);
    // Neither the token nor the session says when it ends: a login is taken to last the session's hour.
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from('AWS:ecr-password').toString('base64') }],
    });
    sts.on(AssumeRoleCommand).resolves({ Credentials: { ...SESSION.Credentials, Expiration: undefined } });
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-22T10:00:00Z') });
    const login = await registry()
      .login('acme')
      .finally(() => vi.useRealTimers());
    expect(login).toMatchObject({ password: 'ecr-password', expiresAt: '2026-11-22T11:00:00.000Z' });
    expect(destroyed).toHaveBeenCalledTimes(2);
    destroyed.mockRestore();
  });

  it("lists images newest first without Berth's hold tags, and undefined for a repository that is not recorded or not in ECR", async () => {
    ecr.on(CreateRepositoryCommand).resolves(created);
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    await registry().createRepository('acme', 'web');
    await registry().createRepository('acme', 'gone');
    ecr.on(DescribeImagesCommand, { repositoryName: 'berth/acme/web' }).resolves({
      imageDetails: [
        {
          imageDigest: 'sha256:1',
          imageTags: ['v1', 'berth-hold-app_0mhv2k9c0f3e2d1c0b9a89786-1'],
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
    ecr.on(DescribeImagesCommand, { repositoryName: 'berth/acme/gone' }).rejects(noRepository());
    expect(await registry().listImages('acme', 'web')).toEqual([
      { digest: 'sha256:2', tags: ['latest', 'v2'], pushedAt: '2026-11-02T00:00:00.000Z', size: 20 },
      { digest: 'sha256:1', tags: ['v1'], pushedAt: '2026-11-01T00:00:00.000Z', size: 10 },
    ]);
    expect(await registry().listImages('acme', 'gone')).toBeUndefined();
    ecr.resetHistory();
    expect(await registry().listImages('acme', 'other')).toBeUndefined();
    expect(ecr).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  describe('imageAt', () => {
    const digest = `sha256:${'1'.repeat(64)}`;
    const configDigest = `sha256:${'2'.repeat(64)}`;
    const downloadUrl = `https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/x/${configDigest}?X-Amz-Signature=s`;
    const single = (size = 120) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size },
        layers: [],
      });
    /** BatchGetImage's answer for one image found: its id with the digest, and its manifest. */
    const found = (imageManifest: string) => ({
      images: [{ imageId: { imageTag: 'v1', imageDigest: digest }, imageManifest }],
      failures: [],
    });
    /** S3 as the presigned URL reaches it: what the test gives, and the URLs asked. */
    const s3 = (answer: () => Response) => {
      const asked: string[] = [];
      vi.stubGlobal('fetch', async (url: string) => {
        asked.push(url);
        return answer();
      });
      return asked;
    };
    afterEach(() => vi.unstubAllGlobals());

    it("answers a tag's digest and an index's platforms from one BatchGetImage, leaving out attestations", async () => {
      const index = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { digest: 'sha256:a', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { digest: 'sha256:b', platform: { os: 'linux', architecture: 'amd64' } },
          { digest: 'sha256:c', platform: { os: 'unknown', architecture: 'unknown' } },
        ],
      };
      ecr.on(BatchGetImageCommand).resolves(found(JSON.stringify(index)));
      expect(await registry().imageAt('berth/acme/web', 'v1')).toEqual({
        digest,
        platforms: ['linux/arm64', 'linux/amd64'],
      });
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
      expect(ecr).toHaveReceivedCommandWith(BatchGetImageCommand, {
        repositoryName: 'berth/acme/web',
        imageIds: [{ imageTag: 'v1' }],
        acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
      });
      expect(ecr).not.toHaveReceivedCommand(DescribeImagesCommand);
      expect(ecr).not.toHaveReceivedCommand(GetDownloadUrlForLayerCommand);
    });

    it("reads a single image's platform from its config blob, through the URL ECR gives for it", async () => {
      ecr
        .on(BatchGetImageCommand)
        .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
        .resolves(found(single()));
      ecr.on(GetDownloadUrlForLayerCommand).resolves({ downloadUrl, layerDigest: configDigest });
      const asked = s3(() => Response.json({ architecture: 'arm64', os: 'linux', config: {} }));
      expect(await registry().imageAt('berth/acme/web', digest)).toEqual({
        digest,
        platforms: ['linux/arm64'],
      });
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 2);
      expect(ecr).toHaveReceivedCommandWith(BatchGetImageCommand, { imageIds: [{ imageDigest: digest }] });
      expect(ecr).toHaveReceivedCommandWith(GetDownloadUrlForLayerCommand, {
        repositoryName: 'berth/acme/web',
        layerDigest: configDigest,
      });
      expect(asked).toEqual([downloadUrl]);
    });

    it('answers undefined for an image or repository that is not there', async () => {
      ecr
        .on(BatchGetImageCommand)
        .resolvesOnce({
          images: [],
          failures: [
            {
              imageId: { imageTag: 'nope' },
              failureCode: 'ImageNotFound',
              failureReason: 'Requested image not found',
            },
          ],
        })
        .rejectsOnce(noRepository());
      expect(await registry().imageAt('berth/acme/web', 'nope')).toBeUndefined();
      expect(await registry().imageAt('berth/acme/gone', 'v1')).toBeUndefined();
    });

    it('answers 503 with the reason when ECR cannot serve an image it has', async () => {
      ecr.on(BatchGetImageCommand).resolves({
        images: [],
        failures: [
          { imageId: { imageTag: 'v1' }, failureCode: 'KmsError', failureReason: 'KMS key is disabled' },
        ],
      });
      const read = registry().imageAt('berth/acme/web', 'v1');
      await expect(read).rejects.toBeInstanceOf(UnavailableError);
      await expect(read).rejects.toThrow(
        'ECR cannot serve berth/acme/web:v1: KmsError (KMS key is disabled)',
      );
    });

    it('answers the digest alone of an image whose manifest or config it cannot read, or whose config is missing, not https, or too large', async () => {
      const padded = { architecture: 'arm64', os: 'linux', history: 'x'.repeat(MAX_CONFIG_BYTES) };
      const asked = s3(() => new Response(JSON.stringify(padded)));
      ecr
        .on(BatchGetImageCommand)
        .resolvesOnce({ images: [{ imageId: { imageDigest: digest } }] })
        .resolvesOnce(found('not a manifest'))
        .resolvesOnce(found(single(MAX_CONFIG_BYTES + 1)))
        .resolves(found(single()));
      ecr
        .on(GetDownloadUrlForLayerCommand)
        .rejectsOnce(Object.assign(new Error('gone'), { name: 'LayersNotFoundException' }))
        .resolvesOnce({ downloadUrl: downloadUrl.replace('https:', 'http:') })
        .resolves({ downloadUrl });
      for (let i = 0; i < 6; i++)
        expect(await registry().imageAt('berth/acme/web', 'v1')).toEqual({ digest, platforms: [] });
      // Only the last one was read, and it was larger than its manifest said.
      expect(asked).toEqual([downloadUrl]);
    });

    it('answers 503 when S3 fails the config', async () => {
      s3(() => new Response('internal error', { status: 500 }));
      ecr.on(BatchGetImageCommand).resolves(found(single()));
      ecr.on(GetDownloadUrlForLayerCommand).resolves({ downloadUrl });
      await expect(registry().imageAt('berth/acme/web', 'v1')).rejects.toBeInstanceOf(UnavailableError);
    });
  });

  describe('holding images for apps', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const appUid = 'app_0mhv2k9c0f3e2d1c0b9a89786';
    const manifest = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}';
    const mediaType = 'application/vnd.oci.image.manifest.v1+json';
    const imageFound = {
      images: [
        { imageId: { imageDigest: digest }, imageManifest: manifest, imageManifestMediaType: mediaType },
      ],
    };

    it('tags the image for the app by putting its own manifest again, under its digest', async () => {
      ecr.on(BatchGetImageCommand).resolves(imageFound);
      ecr.on(PutImageCommand).resolves({});
      await registry().holdImage('berth/acme/web', digest, appUid);
      expect(ecr).toHaveReceivedCommandWith(BatchGetImageCommand, {
        repositoryName: 'berth/acme/web',
        imageIds: [{ imageDigest: digest }],
      });
      const tag = `berth-hold-${appUid}-${'a'.repeat(64)}`;
      expect(ecr).toHaveReceivedCommandWith(PutImageCommand, {
        repositoryName: 'berth/acme/web',
        imageManifest: manifest,
        imageManifestMediaType: mediaType,
        imageDigest: digest,
        imageTag: tag,
      });
      // A tag docker and ECR both take: a word character first, at most 128 in all.
      expect(tag).toMatch(/^\w[\w.-]{0,127}$/);
    });

    it('is done when the tag is on the image already, and does nothing for an image or repository gone', async () => {
      ecr.on(BatchGetImageCommand).resolves(imageFound);
      ecr
        .on(PutImageCommand)
        .rejects(Object.assign(new Error('tag exists'), { name: 'ImageAlreadyExistsException' }));
      await registry().holdImage('berth/acme/web', digest, appUid);

      ecr.reset();
      ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
      await registry().holdImage('berth/acme/web', digest, appUid);
      ecr.on(BatchGetImageCommand).rejects(noRepository());
      await registry().holdImage('berth/acme/gone', digest, appUid);
      expect(ecr).toHaveReceivedCommandTimes(PutImageCommand, 0);
    });

    it('puts the manifest imageAt just read, without reading it again; one gone since has nothing to hold', async () => {
      ecr.on(BatchGetImageCommand).resolves(imageFound);
      ecr.on(PutImageCommand).resolves({});
      const ecrRegistry = registry();
      expect((await ecrRegistry.imageAt('berth/acme/web', 'v1'))?.digest).toBe(digest);
      await ecrRegistry.holdImage('berth/acme/web', digest, appUid);
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
      expect(ecr).toHaveReceivedCommandWith(PutImageCommand, {
        imageManifest: manifest,
        imageDigest: digest,
      });

      // Deleted between the two: its layers, the images its index names, or its repository.
      for (const name of [
        'LayersNotFoundException',
        'ReferencedImagesNotFoundException',
        'RepositoryNotFoundException',
      ]) {
        ecr.on(PutImageCommand).rejects(Object.assign(new Error('gone'), { name }));
        await ecrRegistry.holdImage('berth/acme/web', digest, appUid);
      }
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
    });

    it('keeps at most the last hundred manifests imageAt read: a hold of one read before them reads it again', async () => {
      ecr.on(BatchGetImageCommand).callsFake((input: { imageIds: { imageTag: string }[] }) => ({
        images: [
          {
            imageId: { imageDigest: digestOf(Number(input.imageIds[0]?.imageTag)) },
            imageManifest: manifest,
            imageManifestMediaType: mediaType,
          },
        ],
      }));
      ecr.on(PutImageCommand).resolves({});
      const ecrRegistry = registry();
      for (let n = 0; n <= 100; n++) await ecrRegistry.imageAt('berth/acme/web', String(n));
      await ecrRegistry.holdImage('berth/acme/web', digestOf(100), appUid);
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 101);
      await ecrRegistry.holdImage('berth/acme/web', digestOf(0), appUid);
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 102);
      expect(ecr).toHaveReceivedNthCommandWith(BatchGetImageCommand, 102, {
        imageIds: [{ imageDigest: digestOf(0) }],
      });
      expect(ecr).toHaveReceivedCommandTimes(PutImageCommand, 2);
    });

    it('fails with the error ECR gives for anything else', async () => {
      ecr.on(BatchGetImageCommand).resolves(imageFound);
      ecr
        .on(PutImageCommand)
        .rejects(Object.assign(new Error('too many tags'), { name: 'LimitExceededException' }));
      await expect(registry().holdImage('berth/acme/web', digest, appUid)).rejects.toThrow('too many tags');
    });

    it("lets go of the app's tags a hundred a call; a repository gone is no error", async () => {
      ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [], failures: [] });
      const digests = Array.from({ length: 150 }, (_, i) => digestOf(i));
      await registry().releaseImages('berth/acme/web', digests, appUid);
      const calls = ecr.commandCalls(BatchDeleteImageCommand).map((call) => call.args[0].input);
      expect(calls.map((input) => input.imageIds?.length)).toEqual([100, 50]);
      expect(calls[0]).toMatchObject({
        repositoryName: 'berth/acme/web',
        imageIds: expect.arrayContaining([{ imageTag: `berth-hold-${appUid}-${'0'.repeat(64)}` }]),
      });
      ecr.on(BatchDeleteImageCommand).rejects(noRepository());
      await registry().releaseImages('berth/acme/gone', [digest], appUid);
    });

    it('holds the image a new app runs for it, and lets go of it when the app is deleted', async () => {
      const withEcr = coreOnEcr();
      ecr.on(BatchGetImageCommand).resolves(imageFound);
      ecr.on(PutImageCommand).resolves({});
      ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [], failures: [] });
      const image = `${host}/berth/acme/web:v1`;
      await createApp(withEcr, 'acme', { name: 'web', image, cpu: 0.25, memory: 512, port: 8080 });
      // The tag's image is read once, for its digest and platforms and for the hold.
      expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
      const { uid } = await getAppRecord(withEcr, 'acme', 'web');
      const tag = `berth-hold-${uid}-${'a'.repeat(64)}`;
      expect(ecr).toHaveReceivedCommandWith(PutImageCommand, {
        repositoryName: 'berth/acme/web',
        imageDigest: digest,
        imageTag: tag,
      });
      await deleteApp(withEcr, 'acme', 'web');
      expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
        repositoryName: 'berth/acme/web',
        imageIds: [{ imageTag: tag }],
      });
    });

    it('has a lifecycle policy whose first rule spares every held image from the rules after it', () => {
      const expire = { type: 'expire' };
      expect(JSON.parse(LIFECYCLE_POLICY)).toEqual({
        rules: [
          {
            rulePriority: 1,
            description: 'keep the images apps hold',
            // Expires only past ten thousand held images: an image it matches, no later rule expires.
            selection: {
              tagStatus: 'tagged',
              tagPrefixList: ['berth-hold-'],
              countType: 'imageCountMoreThan',
              countNumber: 10_000,
            },
            action: expire,
          },
          {
            rulePriority: 2,
            description: 'expire untagged images after 7 days',
            selection: {
              tagStatus: 'untagged',
              countType: 'sinceImagePushed',
              countUnit: 'days',
              countNumber: 7,
            },
            action: expire,
          },
          {
            // ECR takes a rule on any image only as the last.
            rulePriority: 3,
            description: 'keep the newest 50 images',
            selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 },
            action: expire,
          },
        ],
      });
    });
  });
});
