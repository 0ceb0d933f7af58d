import { createHmac, randomBytes, sign, timingSafeEqual } from 'node:crypto';

export interface RepositoryAccess {
  type: 'repository';
  name: string;
  actions: ('pull' | 'push' | 'delete')[];
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Bearer tokens for the distribution registry (Docker's token auth): ES256 JWTs with an `access` claim. */
export class RegistryTokenIssuer {
  constructor(
    private readonly options: { privateKeyPem: string; keyId: string; issuer: string; service: string },
  ) {}

  issue(subject: string, access: RepositoryAccess[], ttlSeconds: number, nowMs = Date.now()): string {
    const now = Math.floor(nowMs / 1000);
    const header = { alg: 'ES256', typ: 'JWT', kid: this.options.keyId };
    const claims = {
      iss: this.options.issuer,
      sub: subject,
      aud: this.options.service,
      iat: now,
      nbf: now - 5,
      exp: now + ttlSeconds,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: this.options.privateKeyPem,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${b64url(signature)}`;
  }
}

export interface LoginCredentials {
  username: string;
  password: string;
  expiresAt: string;
}

const PASSWORD_PREFIX = 'brc_';

/**
 * Short-lived `docker login` credentials: the username is the tenant, the password an HMAC-signed expiry for it,
 * so nothing needs storing and a credential for one tenant can never speak for another.
 */
export class LoginCredentialSigner {
  constructor(private readonly secret: Buffer) {
    // HMAC takes any key, an empty one too, with which anyone could sign.
    if (secret.length < 32)
      throw new Error('login credentials are signed with a secret of at least 32 bytes');
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  mint(tenantId: string, ttlSeconds: number, nowMs = Date.now()): LoginCredentials {
    const expiresAt = new Date(nowMs + ttlSeconds * 1000);
    const payload = b64url(JSON.stringify({ t: tenantId, e: Math.floor(expiresAt.getTime() / 1000) }));
    return {
      username: tenantId,
      password: `${PASSWORD_PREFIX}${payload}.${this.mac(payload)}`,
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** The tenant a username/password pair speaks for, or undefined when forged, mismatched or expired. */
  verify(username: string, password: string, nowMs = Date.now()): string | undefined {
    if (!password.startsWith(PASSWORD_PREFIX)) return undefined;
    const [payload = '', mac = ''] = password.slice(PASSWORD_PREFIX.length).split('.');
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const { t, e } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { t?: string; e?: number };
    if (!t || t !== username || !e || e * 1000 < nowMs) return undefined;
    return t;
  }
}
