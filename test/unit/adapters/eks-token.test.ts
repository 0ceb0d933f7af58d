import { describe, expect, it } from 'vitest';
import { EksTokenCache, eksToken } from '../../../functions/adapters/eks/eks-token.ts';

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=chars',
};
const at = new Date('2026-11-22T10:00:00Z');

function decode(token: string) {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(encoded, 'base64url').toString());
}

describe('EKS bearer token', () => {
  it('is a presigned STS GetCallerIdentity URL naming the cluster in a signed header', async () => {
    const url = decode(eksToken('berth-apps', 'eu-west-1', credentials, at));
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20261122/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261122T100000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': 'session/token+with=chars',
    });
    // What the SDK's own signer (@smithy/signature-v4) gave for these inputs, byte for byte.
    expect(q['X-Amz-Signature']).toBe('b26310fb07b164420faa673a7aac175a12621f3053efd989470af23e449bb48f');
    // The cluster name is part of what is signed.
    const other = decode(eksToken('other', 'eu-west-1', credentials, at));
    expect(other.searchParams.get('X-Amz-Signature')).not.toBe(q['X-Amz-Signature']);
  });

  it('is reused for at most 14 minutes and never past the credentials’ expiry', async () => {
    let now = at;
    let fetched = 0;
    const cache = new EksTokenCache(
      'berth-apps',
      'eu-west-1',
      async () => {
        fetched += 1;
        return { ...credentials, expiration: new Date(at.getTime() + 20 * 60_000) };
      },
      () => now,
    );
    const first = await cache.token();
    now = new Date(at.getTime() + 13 * 60_000 + 59_000);
    expect(await cache.token()).toBe(first);
    now = new Date(at.getTime() + 14 * 60_000);
    expect(await cache.token()).not.toBe(first);
    expect(fetched).toBe(2);

    let soon = at;
    const short = new EksTokenCache(
      'berth-apps',
      'eu-west-1',
      async () => ({ ...credentials, expiration: new Date(at.getTime() + 5 * 60_000) }),
      () => soon,
    );
    const token = await short.token();
    soon = new Date(at.getTime() + 5 * 60_000);
    expect(await short.token()).not.toBe(token);
  });
});
