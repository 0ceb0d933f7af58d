import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoginCredentialSigner } from '../../../functions/adapters/registry/registry-tokens.ts';
import { ensureRegistrySecrets } from '../../../functions/local/registry-secrets.ts';

describe("the registry's secrets, as a power cut can leave them", () => {
  it('makes the login secret anew when its file is empty or cut short, never signing with what is left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-registry-secrets-'));
    const first = ensureRegistrySecrets(dir).secret;
    expect(first).toHaveLength(32);
    for (const left of ['', first.toString('hex').slice(0, 6)]) {
      writeFileSync(join(dir, 'secret'), left);
      const secret = ensureRegistrySecrets(dir).secret;
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

    writeFileSync(join(dir, 'token.key'), '');
    const second = ensureRegistrySecrets(dir);
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
