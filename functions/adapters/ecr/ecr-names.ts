/*
 * How Berth names its place in the account's ECR: what the CDK app grants and what the API says before it has
 * loaded the ECR client at all.
 */

/** What pulling an image from ECR takes (besides `ecr:GetAuthorizationToken`, which has no resource). */
export const ECR_PULL_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
];
/** What pushing takes: pulling, plus the layer upload and the manifest. */
export const ECR_PUSH_ACTIONS = [
  ...ECR_PULL_ACTIONS,
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
];

/** The ARN of the repositories at `path` (a name, or a prefix ending in `*`). */
export const repositoryArn = (region: string, account: string, path: string) =>
  `arn:aws:ecr:${region}:${account}:repository/${path}`;

/** The registry host of an account's ECR in a region. */
export const ecrHost = (account: string, region: string) => `${account}.dkr.ecr.${region}.amazonaws.com`;

/**
 * Where an installation keeps its tenants' repositories in the account's ECR: under its name (`berth/` for the
 * default install), so that two installs in one account and region never reach each other's.
 */
export const repositoryRoot = (installation: string) => `${installation}/`;

/** The ARN of every repository of an installation's tenants (what its roles may push to or pull from). */
export const installRepositoriesArn = (region: string, account: string, installation: string) =>
  repositoryArn(region, account, `${repositoryRoot(installation)}*`);

/** The repository path prefix of a tenant's repositories: `<installation>/<tenant>/`. */
export const ecrNamespace = (installation: string, tenantId: string) =>
  `${repositoryRoot(installation)}${tenantId}/`;

/** How the tags that hold an image for an app begin (holdImage); the lifecycle policy spares what they name. */
export const HOLD_TAG_PREFIX = 'berth-hold-';

/** The tag that holds the image at `digest` for the app `appUid`: `berth-hold-<uid>-<hex>`, 105 characters. */
export const holdTag = (appUid: string, digest: string) =>
  `${HOLD_TAG_PREFIX}${appUid}-${digest.replace(/^sha256:/, '')}`;
