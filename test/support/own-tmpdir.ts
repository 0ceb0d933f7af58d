import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Points TMPDIR at a new directory of its own, so what this process and the ones it starts write to the temporary
 * directory (synthesized CDK apps, platform data, keys) goes there; returns what removes it.
 */
export function ownTmpdir(prefix: string): () => void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
