import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDataDir, lockInstallation } from '../../../functions/local/platform-locks.ts';

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

describe('lockInstallation', () => {
  it('lets one platform at a time on this machine run an installation, whatever its data directory', () => {
    const name = `lock-test-${process.pid}-${Date.now()}`;
    const release = lockInstallation(name);
    expect(() => lockInstallation(name)).toThrow(
      `another Berth (pid ${process.pid}) runs installation "${name}" on this machine, whose containers this one would take for its own: stop it first, or give this one its own BERTH_TABLE_NAME`,
    );
    lockInstallation(`${name}-other`)();
    release();
    lockInstallation(name)();
  });
});
