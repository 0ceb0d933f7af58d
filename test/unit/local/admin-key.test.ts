import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminKey } from '../../../functions/local/admin-key.ts';

describe('the bootstrap admin key', () => {
  it('is generated once, stored with mode 0600 and read back afterwards', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
    const first = resolveAdminKey(dir, undefined);
    expect(first.generated).toBe(true);
    expect(first.key).toMatch(/^bk_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'admin-key')).mode & 0o777).toBe(0o600);
    expect(resolveAdminKey(dir, undefined)).toEqual({ key: first.key, generated: false });
  });

  it('is BERTH_ADMIN_KEY when that is set, and then nothing is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
    const key = `bk_${'a'.repeat(43)}`;
    expect(resolveAdminKey(dir, key)).toEqual({ key, generated: false });
    expect(() => statSync(join(dir, 'admin-key'))).toThrow();
  });

  it('stops the start when its file holds no key — empty, as a power cut can leave it, or cut short — saying how to mend it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
    const file = join(dir, 'admin-key');
    writeFileSync(file, '');
    expect(() => resolveAdminKey(dir, undefined)).toThrow(
      `${file} holds no admin key (it is empty): write into it the key the first start printed, or delete it to have a new one made and shown at the next start`,
    );
    // The first characters of a key: a key anyone could guess.
    writeFileSync(file, 'bk_3xq\n');
    expect(() => resolveAdminKey(dir, undefined)).toThrow(
      'holds no admin key (it is not bk_ followed by at least 32 base64url characters)',
    );
    expect(readFileSync(file, 'utf8')).toBe('bk_3xq\n');
    rmSync(file);
    expect(resolveAdminKey(dir, undefined)).toMatchObject({ generated: true });
    expect(readdirSync(dir)).toEqual(['admin-key']);
  });
});
