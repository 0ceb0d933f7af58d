import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  type BatchGetImageCommandOutput,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  type ImageIdentifier,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Image, RegistryLogin, Repository } from '../../../schemas/repository.ts';
import { chunks } from '../../core/chunks.ts';
import { codeUnitOrder } from '../../core/code-unit-order.ts';
import { ConflictError, UnavailableError } from '../../core/errors.ts';
import type { ImageRegistry, RegistryImage, RepositoryRecord, Store } from '../../core/ports.ts';
import { MAX_REPOSITORIES_PER_TENANT } from '../../core/tenant-caps.ts';
import { sdkClientConfig } from '../aws/client-config.ts';
import { allPages } from '../aws/pages.ts';
import { isAwsError, type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import { MANIFEST_MEDIA_TYPES, platformsOfImage } from '../oci/image-platforms.ts';
import { ECR_PUSH_ACTIONS, ecrNamespace, HOLD_TAG_PREFIX, holdTag, repositoryArn } from './ecr-names.ts';

const LOGIN_SECONDS = 3600;

/**
 * Keeps every image an app holds (holdImage), drops other untagged images after 7 days, and keeps the newest 50
 * images. An image matched by a rule is never expired by a later one (which still counts it), so the first rule,
 * which expires only past ten thousand held images, spares held images from the other two: a revision's image stays
 * for as long as its app holds it, though its tag moved on or fifty newer images were pushed. Apps hold a bounded
 * number each (core's HELD_REVISIONS), so the first rule is a safeguard that no repository should reach.
 */
export const LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'keep the images apps hold',
      selection: {
        tagStatus: 'tagged',
        tagPrefixList: [HOLD_TAG_PREFIX],
        countType: 'imageCountMoreThan',
        countNumber: 10_000,
      },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'expire untagged images after 7 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 3,
      description: 'keep the newest 50 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 },
      action: { type: 'expire' },
    },
  ],
});

export interface EcrRegistryOptions {
  ecr: ECRClient;
  /** The install's name, which its repositories' names begin with (repositoryRoot). */
  installation: string;
  sts: STSClient;
  /** `<account>.dkr.ecr.<region>.amazonaws.com` */
  host: string;
  region: string;
  account: string;
  /** A role the control plane may assume for tenants' `docker login`; each session is scoped down to one tenant. */
  pushRoleArn: string;
  /**
   * Where each tenant's repositories are listed: ECR lists only a whole account's, so a tenant's list would read
   * every repository of every tenant.
   */
  records: Pick<
    Store,
    'createRepository' | 'completeRepository' | 'listRepositories' | 'getRepository' | 'deleteRepository'
  >;
  retry?: RetryOptions;
}

const notFound = (err: unknown) => isAwsError(err, 'RepositoryNotFoundException');
const layerGone = (err: unknown) =>
  isAwsError(err, 'RepositoryNotFoundException', 'LayersNotFoundException', 'LayerInaccessibleException');

/** What PutImage answers for an image it cannot tag again because it, its layers or its repository went. */
const imageGone = (err: unknown) =>
  isAwsError(
    err,
    'RepositoryNotFoundException',
    'LayersNotFoundException',
    'ReferencedImagesNotFoundException',
  );

/** How many manifests just read are kept for holdImage (a few KB each). */
const MANIFESTS_KEPT = 100;

/** How many images one BatchDeleteImage takes. */
const BATCH_DELETE_IMAGES = 100;

/** How long reading an image's config from S3 may take. */
const CONFIG_DOWNLOAD_MS = 5000;

/**
 * The ImageRegistry on ECR: a repository per tenant app under `<installation>/<tenant>/`, scanned on push, with a
 * lifecycle policy, and recorded in the table, where a tenant's repositories are listed; `docker login` credentials
 * come from an STS session whose policy reaches only the tenant's repositories.
 */
export class EcrRegistry implements ImageRegistry {
  readonly host: string;
  /**
   * The manifests imageAt read last, by `repository@digest`, for the holdImage that follows it in the same request:
   * a digest names its manifest for good, so what was read is what ECR has, for as long as it has the image.
   */
  private readonly manifests = new Map<string, { manifest: string; mediaType: string | undefined }>();

  constructor(private readonly options: EcrRegistryOptions) {
    this.host = options.host;
  }

  namespaceOf(tenantId: string): string {
    return ecrNamespace(this.options.installation, tenantId);
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.options.retry);
  }

  /** The session policy of a tenant's login: push and pull on its own repositories, nothing else. */
  sessionPolicy(tenantId: string): string {
    return JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        {
          Effect: 'Allow',
          Action: ECR_PUSH_ACTIONS,
          Resource: repositoryArn(
            this.options.region,
            this.options.account,
            `${this.namespaceOf(tenantId)}*`,
          ),
        },
      ],
    });
  }

  /**
   * One BatchGetImage by the tag (or digest) answers the digest and the manifest; for a single image, its platform
   * is in its config blob, read through the presigned S3 URL ECR gives for it (ECR has no call that answers it).
   */
  async imageAt(repository: string, reference: string): Promise<RegistryImage | undefined> {
    const { ecr } = this.options;
    const found = await this.manifestAt(repository, reference);
    if (!found) return undefined;
    const { digest, manifest, mediaType } = found;
    if (!manifest) return { digest, platforms: [] };
    if (this.manifests.size >= MANIFESTS_KEPT) this.manifests.clear();
    this.manifests.set(`${repository}@${digest}`, { manifest, mediaType });
    const platforms = await platformsOfImage(manifest, async (config) => {
      let url: string | undefined;
      try {
        const layer = await this.call(() =>
          ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: repository, layerDigest: config })),
        );
        url = layer.downloadUrl;
      } catch (err) {
        if (layerGone(err)) return undefined;
        throw err;
      }
      if (!url?.startsWith('https://')) return undefined;
      const res = await fetch(url, { signal: AbortSignal.timeout(CONFIG_DOWNLOAD_MS) }).catch(
        () => undefined,
      );
      if (!res?.ok) throw new UnavailableError('reading the image from ECR failed; retry shortly');
      return res;
    });
    return { digest, platforms };
  }

  /** An image's digest and manifest, by tag or digest, in one BatchGetImage; undefined when there is none. */
  private async manifestAt(repository: string, reference: string) {
    const imageId: ImageIdentifier = reference.startsWith('sha256:')
      ? { imageDigest: reference }
      : { imageTag: reference };
    let got: BatchGetImageCommandOutput;
    try {
      got = await this.call(() =>
        this.options.ecr.send(
          new BatchGetImageCommand({
            repositoryName: repository,
            imageIds: [imageId],
            acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
          }),
        ),
      );
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
    const image = got.images?.[0];
    const digest = image?.imageId?.imageDigest;
    if (!image || !digest) {
      // A missing image is a failure of the batch, not an exception; any other (KmsError, ImageInaccessible for an
      // archived image) means ECR could not serve it to a runtime either.
      const failure = got.failures?.[0];
      if (!failure || failure.failureCode === 'ImageNotFound') return undefined;
      const named = `${repository}${imageId.imageDigest ? '@' : ':'}${reference}`;
      throw new UnavailableError(
        `ECR cannot serve ${named}: ${failure.failureCode} (${failure.failureReason ?? 'no reason given'})`,
      );
    }
    return { digest, manifest: image.imageManifest, mediaType: image.imageManifestMediaType };
  }

  /**
   * Tags the image with `berth-hold-<app uid>-<hex>`, putting its own manifest again under that tag (ECR's way to
   * tag an image; the digest is given, so ECR refuses rather than make another image). The lifecycle policy spares
   * an image so tagged. The platform images an image index names stay untagged, and need no hold: ECR's lifecycle
   * policy never expires an image an index refers to (ECR's team in aws/containers-roadmap#1596). The manifest is
   * the one imageAt just read, else read now. An image gone, or gone since, has nothing to hold.
   */
  async holdImage(repository: string, digest: string, appUid: string): Promise<void> {
    const found =
      this.manifests.get(`${repository}@${digest}`) ?? (await this.manifestAt(repository, digest));
    if (!found?.manifest) return;
    const { manifest, mediaType } = found;
    try {
      await this.call(() =>
        this.options.ecr.send(
          new PutImageCommand({
            repositoryName: repository,
            imageManifest: manifest,
            imageManifestMediaType: mediaType,
            imageDigest: digest,
            imageTag: holdTag(appUid, digest),
          }),
        ),
      );
    } catch (err) {
      // The tag is on this very image already: held.
      if (!isAwsError(err, 'ImageAlreadyExistsException') && !imageGone(err)) throw err;
    }
  }

  /**
   * Removes the app's hold tags, a hundred a call. As ever in ECR, an image whose last tag that was goes with it:
   * nothing held it any more, and the lifecycle policy would have expired it. An image already gone is no error, nor
   * one ECR would not untag (it is then only kept longer).
   */
  async releaseImages(repository: string, digests: string[], appUid: string): Promise<void> {
    const tags = digests.map((digest) => ({ imageTag: holdTag(appUid, digest) }));
    for (const imageIds of chunks(tags, BATCH_DELETE_IMAGES)) {
      try {
        await this.call(() =>
          this.options.ecr.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds })),
        );
      } catch (err) {
        if (notFound(err)) return;
        throw err;
      }
    }
  }

  async login(tenantId: string): Promise<RegistryLogin> {
    const session = await this.call(() =>
      this.options.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.options.pushRoleArn,
          RoleSessionName: `berth-${tenantId}`.slice(0, 64),
          Policy: this.sessionPolicy(tenantId),
          DurationSeconds: LOGIN_SECONDS,
        }),
      ),
    );
    const c = session.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error('STS returned no credentials');
    const scoped = new ECRClient({
      ...sdkClientConfig(),
      region: this.options.region,
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
      },
    });
    try {
      const token = await this.call(() => scoped.send(new GetAuthorizationTokenCommand({})));
      const data = token.authorizationData?.[0];
      if (!data?.authorizationToken) throw new Error('ECR returned no authorization token');
      const [username = 'AWS', password = ''] = Buffer.from(data.authorizationToken, 'base64')
        .toString()
        .split(':');
      // ECR's token is valid for 12 hours, but it stands for the session's credentials, which end within the hour
      // (at most, as a role chained from the Lambda's): the earlier end is the one a client can count on.
      const ends = [data.expiresAt, c.Expiration]
        .filter((end) => end !== undefined)
        .map((end) => +new Date(end));
      const expiresAt = ends.length > 0 ? Math.min(...ends) : Date.now() + LOGIN_SECONDS * 1000;
      return { registry: this.host, username, password, expiresAt: new Date(expiresAt).toISOString() };
    } finally {
      scoped.destroy();
    }
  }

  /**
   * Records the repository as pending, makes it in ECR (adopting the one an earlier attempt made) with its lifecycle
   * policy, then marks it made. A create that stops part-way leaves a pending record: creating the name again
   * finishes it, and deleting it or its tenant removes whatever ECR has. Of creates that race, the one that marks
   * the record made answers 201, the others 409 `repository.exists`.
   */
  async createRepository(tenantId: string, name: string): Promise<Repository> {
    const { records } = this.options;
    const repositoryName = `${this.namespaceOf(tenantId)}${name}`;
    const intent = { name, uri: `${this.host}/${repositoryName}`, createdAt: new Date().toISOString() };
    let repository: Repository = intent;
    if (
      !(await records.createRepository(tenantId, { ...intent, pending: true }, MAX_REPOSITORIES_PER_TENANT))
    ) {
      const recorded = await records.getRepository(tenantId, name);
      if (!recorded?.pending) throw repositoryExists(name);
      repository = published(recorded);
    }
    await this.makeInEcr(tenantId, name, repositoryName);
    if (await records.completeRepository(tenantId, name)) return repository;
    if (!(await records.getRepository(tenantId, name))) {
      // Deleted while this create ran (its tenant's deletion, say), perhaps before ECR made it: leave nothing.
      await this.deleteFromEcr(repositoryName);
      throw new ConflictError('conflict', `repository "${name}" was deleted while it was being created`);
    }
    throw repositoryExists(name);
  }

  /** Creates the ECR repository, or adopts the one an earlier attempt made, and sets its lifecycle policy. */
  private async makeInEcr(tenantId: string, name: string, repositoryName: string) {
    try {
      await this.call(() =>
        this.options.ecr.send(
          new CreateRepositoryCommand({
            repositoryName,
            imageScanningConfiguration: { scanOnPush: true },
            imageTagMutability: 'MUTABLE',
            encryptionConfiguration: { encryptionType: 'AES256' },
            tags: [
              { Key: 'berth:tenant', Value: tenantId },
              { Key: 'berth:repository', Value: name },
            ],
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof RepositoryAlreadyExistsException)) throw err;
    }
    await this.call(() =>
      this.options.ecr.send(
        new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: LIFECYCLE_POLICY }),
      ),
    );
  }

  /** The repositories ECR has confirmed; pending ones are not there to push to. */
  async listRepositories(tenantId: string): Promise<Repository[]> {
    const records = await this.options.records.listRepositories(tenantId);
    return records.filter((r) => !r.pending).map(published);
  }

  async listImages(tenantId: string, name: string): Promise<Image[] | undefined> {
    const recorded = await this.options.records.getRepository(tenantId, name);
    if (!recorded || recorded.pending) return undefined;
    const repositoryName = `${this.namespaceOf(tenantId)}${name}`;
    const images: Image[] = [];
    const pages = allPages(
      (nextToken) =>
        this.options.ecr.send(new DescribeImagesCommand({ repositoryName, maxResults: 1000, nextToken })),
      (page) => page.nextToken,
      this.options.retry,
    );
    try {
      for await (const res of pages) {
        for (const i of res.imageDetails ?? []) {
          if (!i.imageDigest) continue;
          images.push({
            digest: i.imageDigest,
            // The tenant's own tags: Berth's holds name apps by an id the API never shows.
            tags: (i.imageTags ?? []).filter((tag) => !tag.startsWith(HOLD_TAG_PREFIX)).sort(),
            pushedAt: (i.imagePushedAt ?? new Date(0)).toISOString(),
            size: i.imageSizeInBytes ?? 0,
          });
        }
      }
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
    return images.sort((a, b) => codeUnitOrder(b.pushedAt, a.pushedAt));
  }

  /** Deletes the ECR repository with its images, then the record; either one found makes it true. */
  async deleteRepository(tenantId: string, name: string): Promise<boolean> {
    const inEcr = await this.deleteFromEcr(`${this.namespaceOf(tenantId)}${name}`);
    return (await this.options.records.deleteRepository(tenantId, name)) || inEcr;
  }

  /** Deletes an ECR repository and its images (`force`); false when ECR has none by that name. */
  private async deleteFromEcr(repositoryName: string): Promise<boolean> {
    try {
      await this.call(() =>
        this.options.ecr.send(new DeleteRepositoryCommand({ repositoryName, force: true })),
      );
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }
}

const repositoryExists = (name: string) =>
  new ConflictError('repository.exists', `repository "${name}" already exists`);

/** What the API shows of a record. */
const published = ({ name, uri, createdAt }: RepositoryRecord): Repository => ({ name, uri, createdAt });
