import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../adapters/files/durable-files.ts';
import { ADMIN_KEY_FORM, generateApiKey } from '../core/api-keys.ts';

/**
 * The bootstrap admin key (API.md "Local bootstrap"): BERTH_ADMIN_KEY when set; otherwise the key stored in
 * `<dataDir>/admin-key` (mode 0600), generated on the first start. A file that holds no such key — empty, as a power
 * cut can leave one, or cut short, which would be a key anyone could guess — stops the start, saying how to mend it.
 */
export function resolveAdminKey(
  dataDir: string,
  fromEnv: string | undefined,
): { key: string; generated: boolean } {
  if (fromEnv) return { key: fromEnv, generated: false };
  const file = join(dataDir, 'admin-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!ADMIN_KEY_FORM.pattern.test(key)) {
      throw new Error(
        `${file} holds no admin key (${key ? `it is not ${ADMIN_KEY_FORM.words}` : 'it is empty'}): write into it the key the first start printed, or delete it to have a new one made and shown at the next start`,
      );
    }
    return { key, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = generateApiKey();
  writeFileDurably(file, `${key}\n`);
  return { key, generated: true };
}
