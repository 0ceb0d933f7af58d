import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Loads the token signing key and certificate from `dir`, making them with openssl on first use. */
export function ensureTokenKeys(dir: string): TokenKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'token.key');
  const certificatePath = join(dir, 'token.crt');
  if (!existsSync(keyPath) || !existsSync(certificatePath)) {
    writeSelfSignedCertificate({ keyPath, certificatePath, subject: '/CN=berth-registry-token', days: 3650 });
  }
  const privateKeyPem = readFileSync(keyPath, 'utf8');
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, certificatePath, keyId: libtrustKeyId(publicKeyPem) };
}
