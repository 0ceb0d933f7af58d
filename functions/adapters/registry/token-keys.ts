import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { moveDurably, pendingNameFor } from '../files/durable-files.ts';
import { writeSelfSignedCertificate } from './self-signed-certificate.ts';

export interface TokenKeys {
  /** PEM private key (EC P-256) that signs registry tokens. */
  privateKeyPem: string;
  /** The self-signed certificate the registry trusts (its rootcertbundle). */
  certificatePath: string;
  /** The key id the registry derives from that certificate (libtrust format). */
  keyId: string;
}

/**
 * The libtrust key id the distribution registry matches a token's `kid` against: SHA-256 of the DER public key,
 * first 240 bits, base32, in 12 groups of 4.
 */
export function libtrustKeyId(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let i = 0; i < bits.length; i += 5) encoded += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return encoded.match(/.{4}/g)?.join(':') ?? encoded;
}

/**
 * Loads the token signing key and certificate from `dir`, making them with openssl on first use, and anew when they do
 * not load (one missing, empty or cut short, as a power cut can leave them) or the certificate is not the key's.
 */
export function ensureTokenKeys(dir: string): TokenKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'token.key');
  const certificatePath = join(dir, 'token.crt');
  let privateKeyPem = keptKey(keyPath, certificatePath);
  if (!privateKeyPem) {
    if (existsSync(keyPath) || existsSync(certificatePath)) {
      console.warn(
        `[berth] ${keyPath} and ${certificatePath} are not a key and its certificate (as a power cut can leave them): made new ones; docker logins given before are refused, and asked for again with POST /v1/registry/token`,
      );
    }
    privateKeyPem = makeKeys(keyPath, certificatePath);
  }
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, certificatePath, keyId: libtrustKeyId(publicKeyPem) };
}

/** The private key kept at `keyPath` when it loads, and the certificate at `certificatePath` is its own. */
function keptKey(keyPath: string, certificatePath: string): string | undefined {
  try {
    const privateKeyPem = readFileSync(keyPath, 'utf8');
    const certificate = new X509Certificate(readFileSync(certificatePath));
    return certificate.checkPrivateKey(createPrivateKey(privateKeyPem)) ? privateKeyPem : undefined;
  } catch {
    return undefined;
  }
}

/** Makes a key and its certificate beside their places, then moves them in: the key first, as keptKey checks both. */
function makeKeys(keyPath: string, certificatePath: string): string {
  const pending = { keyPath: pendingNameFor(keyPath), certificatePath: pendingNameFor(certificatePath) };
  try {
    writeSelfSignedCertificate({ ...pending, subject: '/CN=berth-registry-token', days: 3650 });
    moveDurably(pending.keyPath, keyPath);
    moveDurably(pending.certificatePath, certificatePath);
  } finally {
    rmSync(pending.keyPath, { force: true });
    rmSync(pending.certificatePath, { force: true });
  }
  return readFileSync(keyPath, 'utf8');
}
