import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../adapters/files/durable-files.ts';
import { ensureTokenKeys, type TokenKeys } from '../adapters/registry/token-keys.ts';
import { ensureOpenssl } from './openssl.ts';

export interface RegistrySecrets extends TokenKeys {
  /** Signs login credentials and authenticates the registry's notifications. */
  secret: Buffer;
}

/** The secret as it is kept: 32 random bytes in hex. */
const SECRET = /^[0-9a-f]{64}$/;

/**
 * The registry's key material under `<dir>` (mode 0600), made on first use and kept across restarts. A secret file
 * that holds no secret (empty or cut short, as a power cut can leave it, which would sign with a key anyone could
 * guess) is made anew, as are token keys that do not load: what they signed before is refused, and asked for again.
 */
export function ensureRegistrySecrets(dir: string): RegistrySecrets {
  ensureOpenssl();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'secret');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  let secret = kept ?? '';
  if (!SECRET.test(secret)) {
    if (kept !== undefined) {
      console.warn(
        `[berth] ${file} held no secret (${kept ? 'it was cut short' : 'it was empty'}, as a power cut can leave it): made a new one; docker logins given before are refused, and asked for again with POST /v1/registry/token`,
      );
    }
    secret = randomBytes(32).toString('hex');
    writeFileDurably(file, secret);
  }
  return { ...ensureTokenKeys(dir), secret: Buffer.from(secret, 'hex') };
}
