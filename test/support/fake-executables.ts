import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { vi } from 'vitest';

/** Writes `script`, a shell script, as the executable `name` in `dir`. */
export function writeExecutable(dir: string, name: string, script: string): void {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
}

/**
 * A new directory of the executables `scripts` holds (shell scripts, by name), put first on the PATH with
 * vi.stubEnv, which vi.unstubAllEnvs() undoes; the caller removes the directory.
 */
export function executablesFirstOnPath(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-bin-'));
  for (const [name, script] of Object.entries(scripts)) writeExecutable(dir, name, script);
  vi.stubEnv('PATH', `${dir}${delimiter}${process.env.PATH}`);
  return dir;
}
