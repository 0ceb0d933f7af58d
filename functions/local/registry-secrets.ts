import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTokenKeys, type TokenKeys } from '../adapters/registry/token-keys.ts';
import { ensureOpenssl } from './openssl.ts';

export interface RegistrySecrets extends TokenKeys {
  /** Signs login credentials and authenticates the registry's notifications. */
  secret: Buffer;
}

/** The registry's key material under `<dir>` (mode 0600), made on first use and kept across restarts. */
export function ensureRegistrySecrets(dir: string): RegistrySecrets {
  ensureOpenssl();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  return { ...ensureTokenKeys(dir), secret: Buffer.from(readFileSync(file, 'utf8').trim(), 'hex') };
}
