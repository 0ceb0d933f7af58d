import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoginCredentialSigner } from '../../../functions/adapters/registry/registry-tokens.ts';
import { ensureRegistrySecrets } from '../../../functions/local/registry-secrets.ts';

describe("the registry's secrets, as a power cut can leave them", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('makes the login secret anew when its file is empty or cut short, never signing with what is left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-registry-secrets-'));
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const first = ensureRegistrySecrets(dir).secret;
    expect(first).toHaveLength(32);
    // A first start makes its secret without a word.
    expect(warned).not.toHaveBeenCalled();
    for (const [left, how] of [
      ['', 'it was empty'],
      [first.toString('hex').slice(0, 6), 'it was cut short'],
    ]) {
      writeFileSync(join(dir, 'secret'), left ?? '');
      const secret = ensureRegistrySecrets(dir).secret;
      expect(warned).toHaveBeenLastCalledWith(
        `[berth] ${join(dir, 'secret')} held no secret (${how}, as a power cut can leave it): made a new one; docker logins given before are refused, and asked for again with POST /v1/registry/token`,
      );
      expect(secret).toHaveLength(32);
      expect(secret.equals(first)).toBe(false);
      expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe(secret.toString('hex'));
    }
    expect(readdirSync(dir).sort()).toEqual(['secret', 'token.crt', 'token.key']);
  });

  it('makes the token keys anew when one is empty, or the certificate is not the key’s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-registry-secrets-'));
    const first = ensureRegistrySecrets(dir);
    expect(ensureRegistrySecrets(dir).keyId).toBe(first.keyId);
    const certificate = readFileSync(first.certificatePath);

    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
    writeFileSync(join(dir, 'token.key'), '');
    const second = ensureRegistrySecrets(dir);
    expect(warned).toHaveBeenCalledWith(
      expect.stringMatching(/token\.key and .*token\.crt are not a key and its certificate/),
    );
    expect(second.keyId).not.toBe(first.keyId);
    // The certificate the registry trusts is the one of the key that signs.
    const trusted = new X509Certificate(readFileSync(second.certificatePath));
    expect(trusted.checkPrivateKey(createPrivateKey(second.privateKeyPem))).toBe(true);

    // The first certificate back beside the second key: the registry would refuse every token.
    writeFileSync(second.certificatePath, certificate);
    const third = ensureRegistrySecrets(dir);
    expect(third.keyId).not.toBe(second.keyId);
    writeFileSync(second.certificatePath, '');
    expect(ensureRegistrySecrets(dir).keyId).not.toBe(third.keyId);
    expect(readdirSync(dir).sort()).toEqual(['secret', 'token.crt', 'token.key']);
  });

  it('never signs login credentials with a secret shorter than 32 bytes', () => {
    expect(() => new LoginCredentialSigner(Buffer.alloc(0))).toThrow('at least 32 bytes');
    expect(() => new LoginCredentialSigner(Buffer.alloc(31, 1))).toThrow('at least 32 bytes');
    expect(new LoginCredentialSigner(Buffer.alloc(32, 1)).mint('acme', 60).username).toBe('acme');
  });
});
