import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, ValidationError } from '../../core/errors.ts';
import type { Clock, Store } from '../../core/ports.ts';
import { canonicalJson } from '../../core/same-value.ts';
import type { ApiEnv } from '../context.ts';
import type { ErrorLogger } from '../problem.ts';

const RETENTION_SECONDS = 24 * 60 * 60;
/** A claim whose request has not finished after this long is taken to be abandoned (its process died). */
const LOCK_SECONDS = 60;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * What a request's body weighs in its fingerprint: a JSON body by its data, so that the same fields sent again with
 * other spacing, key order or escapes are the same request (Stripe compares the parameters, not their text), and no
 * body as `{}`, which every route that takes no body reads alike (an empty one too: emptyBodyIsNone); any other body
 * by its text. So is JSON nested deeper than canonicalJson's recursion goes (thousands of levels), which no route
 * takes (400, which keeps no answer).
 */
function bodyFingerprint(text: string): string {
  try {
    return canonicalJson(text === '' ? {} : JSON.parse(text));
  } catch {
    return text;
  }
}

/**
 * Whether an answer leaves its Idempotency-Key free (it is not kept, so never replayed), as Stripe's do, so that a
 * retry with the key runs: the request never ran (400: it failed validation, 412: its If-Match named a version gone,
 * 415: its body was not JSON, 429: rate limited) or failed inside (5xx). Either may be fixed without a new key: the
 * body or its Content-Type corrected, the app read again for its ETag (which the fingerprint leaves out), the image
 * pushed.
 */
export const releasesKey = (status: number) =>
  status >= 500 || status === 429 || status === 400 || status === 412 || status === 415;

/**
 * `Idempotency-Key` on POST (Stripe's semantics): the first response is stored for 24 h and replayed with
 * `Idempotent-Replayed: true`, but for those that `releasesKey`; the same key with another body (other data: see
 * bodyFingerprint) or query string → 422 idempotency.mismatch; while the first request still runs → 409
 * idempotency.conflict. The table keeps the key's hash and the response's body sealed with the key (see `seal`);
 * should it fail to keep the response, the request's own answer still goes out (the key answers 409 until its
 * claim's lock runs out, then runs a request again). A POST to a path no POST route takes (`routed` says which do)
 * claims nothing: its 404 would hold the key, and the request sent again to the right path would be a mismatch.
 */
export function idempotency(
  { store, clock, logger }: { store: Store; clock: Clock; logger: ErrorLogger },
  routed: (path: string) => boolean,
) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined || !routed(c.req.path)) return next();
    if (key.length === 0 || key.length > 255) {
      throw new ValidationError('Idempotency-Key must be 1 to 255 characters', [
        { path: 'Idempotency-Key', message: 'must be 1 to 255 characters' },
      ]);
    }
    const principal = c.get('principal');
    const scope = principal.role === 'admin' ? 'admin' : `tenant:${principal.tenantId}`;
    const keyHash = sha256(key);
    const { search } = new URL(c.req.url);
    const fingerprint = sha256(
      `${c.req.method} ${c.req.path}${search}\n${bodyFingerprint(await c.req.text())}`,
    );
    const now = Math.floor(clock.now().getTime() / 1000);
    const claim = await store.claimIdempotencyKey(
      scope,
      keyHash,
      { fingerprint, lockedUntil: now + LOCK_SECONDS, expiresAt: now + RETENTION_SECONDS },
      now,
    );
    if (!claim.claimed) {
      const { existing } = claim;
      if (existing.fingerprint !== fingerprint) {
        throw new DomainError(
          'idempotency.mismatch',
          'this Idempotency-Key was used with another request; use a new key for a different request',
        );
      }
      if (existing.state !== 'done' || !existing.response) {
        throw new DomainError(
          'idempotency.conflict',
          'a request with this Idempotency-Key is still in progress; retry later',
        );
      }
      const { status, headers, body } = existing.response;
      // Every POST route answers with a body.
      return c.body(unseal(body, bodyKey(key, scope)), status as ContentfulStatusCode, {
        ...headers,
        'idempotent-replayed': 'true',
      });
    }
    // What the route threw is its answer by now (the app's onError): a 5xx among those that release the key.
    await next();
    if (releasesKey(c.res.status)) {
      await store.releaseIdempotencyKey(scope, keyHash);
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = c.res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const body = seal(await c.res.clone().text(), bodyKey(key, scope));
    try {
      await store.completeIdempotencyKey(scope, keyHash, { status: c.res.status, headers, body });
    } catch (error) {
      // The request did what it did: its own answer goes out, not a 5xx that would have the client send it again
      // (the key, still claimed, answers 409 until its lock runs out). Logged, as a failure of the table.
      logger.error('could not keep the answer of an Idempotency-Key', {
        requestId: c.get('requestId'),
        error,
      });
    }
  });
}

/**
 * The key a stored body is sealed with, derived from the Idempotency-Key, which only the client keeps (the table
 * has its hash). A secret shown once — a new API key, registry credentials — is then not readable from the table or
 * its backups, yet a replay still returns it: as safe as the Idempotency-Key is random (a UUID, say).
 */
const bodyKey = (idempotencyKey: string, scope: string) =>
  Buffer.from(hkdfSync('sha256', idempotencyKey, scope, 'berth idempotent response', 32));

/** AES-256-GCM: `<iv>.<ciphertext>.<tag>`, base64url. */
function seal(body: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
  return [iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
}

function unseal(text: string, key: Buffer): string {
  const [iv = '', sealed = '', tag = ''] = text.split('.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}
