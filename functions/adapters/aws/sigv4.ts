import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { AwsCredentials } from './credentials.ts';

/*
 * AWS Signature Version 4, as AWS documents it ("Create a signed AWS API request"), for the two requests Berth signs
 * itself rather than through an SDK client: DynamoDB's (signed headers) and the EKS token's (a presigned URL). The
 * SDK's own signer drags its whole protocol core into a bundle with it (160 KB at the API's cold start).
 */

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Who signs, for which service and region, when. */
export interface SigningScope {
  service: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
}

const hmac = (key: string | Buffer | KeyObject, text: string) =>
  createHmac('sha256', key).update(text).digest();
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** RFC 3986's encoding, which SigV4 wants: encodeURIComponent leaves !'()* as they are. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `20261122T100000Z` */
const amzDate = (now: Date) => now.toISOString().replace(/[:-]|\.\d{3}/g, '');

const credentialScope = ({ service, region }: SigningScope, at: string) =>
  `${at.slice(0, 8)}/${region}/${service}/aws4_request`;

/**
 * Signing keys derived so far, by day, region, service and credentials: a key serves a whole day, as the SDK's signer
 * keeps it. Deriving one is four HMACs, each keyed by a Buffer, which Node 24 checks for a CryptoKey at length
 * (an HMAC keyed by a Buffer measured 4× one keyed by a KeyObject); kept as a KeyObject, the one HMAC a request
 * still needs is the fast kind. Credentials rotate (a Lambda role's every few hours), so the cache is emptied when
 * it holds more than a few.
 */
const signingKeys = new Map<string, KeyObject>();
const MAX_SIGNING_KEYS = 16;

function signingKey({ service, region, credentials }: SigningScope, day: string): KeyObject {
  const id = [day, region, service, credentials.accessKeyId, credentials.secretAccessKey].join('\n');
  let key = signingKeys.get(id);
  if (!key) {
    let derived = hmac(`AWS4${credentials.secretAccessKey}`, day);
    for (const part of [region, service, 'aws4_request']) derived = hmac(derived, part);
    key = createSecretKey(derived);
    if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

interface Canonical {
  method: string;
  url: URL;
  /** Every header signed, names in lowercase. */
  headers: Record<string, string>;
  payloadHash: string;
}

/** The signed headers' names, and the request's signature under `scope` at `at`. */
function sign({ method, url, headers, payloadHash }: Canonical, scope: SigningScope, at: string) {
  const names = Object.keys(headers).sort();
  const query = [...url.searchParams]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const request = [
    method,
    url.pathname,
    query,
    ...names.map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const toSign = [ALGORITHM, at, credentialScope(scope, at), sha256Hex(request)].join('\n');
  return {
    signedHeaders: names.join(';'),
    signature: hmac(signingKey(scope, at.slice(0, 8)), toSign).toString('hex'),
  };
}

/** The headers of a request with a body, signed: `host`, the date, the session token and `authorization` added. */
export function signedHeaders(
  request: { method: string; url: URL; headers: Record<string, string>; body: string },
  scope: SigningScope,
): Record<string, string> {
  const at = amzDate(scope.now);
  const { sessionToken } = scope.credentials;
  const headers: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    host: request.url.host,
    'x-amz-date': at,
    ...(sessionToken ? { 'x-amz-security-token': sessionToken } : {}),
  };
  const { signedHeaders, signature } = sign(
    { method: request.method, url: request.url, headers, payloadHash: sha256Hex(request.body) },
    scope,
    at,
  );
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${scope.credentials.accessKeyId}/${credentialScope(scope, at)}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/**
 * A GET `url` presigned for `expiresSeconds`: its query carries the signature, over `host` and `headers`, which
 * whoever sends it must send as they are.
 */
export function presignedUrl(
  url: URL,
  headers: Record<string, string>,
  expiresSeconds: number,
  scope: SigningScope,
): URL {
  const at = amzDate(scope.now);
  const presigned = new URL(url);
  const { sessionToken } = scope.credentials;
  if (sessionToken) presigned.searchParams.set('X-Amz-Security-Token', sessionToken);
  const signed = { ...headers, host: url.host };
  presigned.searchParams.set('X-Amz-Algorithm', ALGORITHM);
  presigned.searchParams.set(
    'X-Amz-Credential',
    `${scope.credentials.accessKeyId}/${credentialScope(scope, at)}`,
  );
  presigned.searchParams.set('X-Amz-Date', at);
  presigned.searchParams.set('X-Amz-Expires', String(expiresSeconds));
  presigned.searchParams.set('X-Amz-SignedHeaders', Object.keys(signed).sort().join(';'));
  const { signature } = sign(
    // The hash of its empty body, as the SDK's signer presigns (only S3 takes UNSIGNED-PAYLOAD).
    { method: 'GET', url: presigned, headers: signed, payloadHash: sha256Hex('') },
    scope,
    at,
  );
  presigned.searchParams.set('X-Amz-Signature', signature);
  return presigned;
}
