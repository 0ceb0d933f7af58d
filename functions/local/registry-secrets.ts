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
  let secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!SECRET.test(secret)) {
    secret = randomBytes(32).toString('hex');
    writeFileDurably(file, secret);
  }
  return { ...ensureTokenKeys(dir), secret: Buffer.from(secret, 'hex') };
}
