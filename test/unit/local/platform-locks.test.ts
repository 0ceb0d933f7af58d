import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir, lockInstallation } from '../../../functions/local/platform-locks.ts';

/** What a lock of this process holds: its pid and, on Linux, when it started (field 22 of /proc/<pid>/stat). */
const ownLock = () => {
  if (process.platform !== 'linux') return `${process.pid}\n`;
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return `${process.pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}\n`;
};

describe('lockDataDir', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('lets one platform at a time have a data directory, naming the one that has it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-lock-')), 'data');
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'platform.lock'), 'utf8')).toBe(ownLock());
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
    expect(readFileSync(join(dir, 'platform.lock'), 'utf8')).toBe(ownLock());
    release();
  });

  it.runIf(process.platform === 'linux')(
    "takes over a lock whose pid another process was given since (a reboot, a container's restart)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
      const other = spawn('sleep', ['60']);
      children.push(other);
      // The other process's pid, with when the platform that wrote the lock started: not the other's start.
      writeFileSync(join(dir, 'platform.lock'), `${other.pid} 1\n`);
      const release = lockDataDir(dir);
      expect(readFileSync(join(dir, 'platform.lock'), 'utf8')).toBe(ownLock());
      release();
      // Its own start, or none (a lock an earlier Berth wrote), names it: the lock is taken.
      const start = ownLock().split(' ')[1]?.trim();
      for (const lock of [`${process.pid} ${start}\n`, `${process.pid}\n`]) {
        writeFileSync(join(dir, 'platform.lock'), lock);
        expect(() => lockDataDir(dir)).toThrow(`another Berth (pid ${process.pid}) runs on ${dir}`);
      }
    },
  );
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
