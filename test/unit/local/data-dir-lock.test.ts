import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../../functions/local/data-dir-lock.ts';

describe('lockDataDir', () => {
  it('lets one platform at a time have a data directory, naming the one that has it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-lock-')), 'data');
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'platform.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(() => lockDataDir(dir)).toThrow(
      `another Berth (pid ${process.pid}) runs on ${dir}: stop it first`,
    );
    release();
    expect(existsSync(join(dir, 'platform.lock'))).toBe(false);
    lockDataDir(dir)();
  });

  it('takes over the lock of a platform that died without releasing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'platform.lock'), gone.stdout);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'platform.lock'), 'utf8')).toBe(`${process.pid}\n`);
    release();
  });
});
