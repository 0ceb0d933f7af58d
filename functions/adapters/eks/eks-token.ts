import type { AwsCredentials } from '../aws/credentials.ts';
import { presignedUrl } from '../aws/sigv4.ts';

/** EKS accepts a token for 15 minutes; it is reused for at most 14, so it never expires mid-request. */
const TOKEN_LIFETIME_MS = 14 * 60_000;
/** The presigned URL's own validity, as `aws eks get-token` does. */
const PRESIGN_EXPIRES_SECONDS = 60;
const PREFIX = 'k8s-aws-v1.';

/**
 * A Kubernetes bearer token for an EKS cluster, exactly as `aws eks get-token` makes it: an STS GetCallerIdentity
 * request presigned with SigV4, with the cluster name in the signed `x-k8s-aws-id` header, base64url-encoded
 * without padding behind `k8s-aws-v1.`.
 */
export function eksToken(
  clusterName: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): string {
  const sts = new URL(`https://sts.${region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`);
  const url = presignedUrl(sts, { 'x-k8s-aws-id': clusterName }, PRESIGN_EXPIRES_SECONDS, {
    service: 'sts',
    region,
    credentials,
    now,
  });
  return PREFIX + Buffer.from(url.href).toString('base64url');
}

/** Caches a cluster's token for at most 14 minutes and never past the credentials' expiry. */
export class EksTokenCache {
  private cached: { token: string; validUntil: number } | undefined;

  constructor(
    private readonly clusterName: string,
    private readonly region: string,
    private readonly credentials: () => Promise<AwsCredentials>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async token(): Promise<string> {
    const now = this.now();
    if (this.cached && now.getTime() < this.cached.validUntil) return this.cached.token;
    const credentials = await this.credentials();
    const token = eksToken(this.clusterName, this.region, credentials, now);
    const limit = now.getTime() + TOKEN_LIFETIME_MS;
    this.cached = { token, validUntil: Math.min(limit, credentials.expiration?.getTime() ?? limit) };
    return token;
  }
}
