import { mkdtempSync, statSync } from 'node:fs';
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
});
