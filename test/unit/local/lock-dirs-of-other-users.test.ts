import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lockDataDir, lockInstallation } from '../../../functions/local/platform-locks.ts';

/** Paths the kernel is made to refuse this user, as it refuses one outside a directory's owner and group. */
const refused = vi.hoisted(() => ({ write: '', remove: '' }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const deny = (code: string, call: string, path: string) =>
    Object.assign(new Error(`${code}: permission denied, ${call} '${path}'`), { code });
  return {
    ...fs,
    accessSync: (path: string, mode?: number) => {
      if (path === refused.write) throw deny('EACCES', 'access', path);
      fs.accessSync(path, mode);
    },
    rmSync: (path: string, options?: import('node:fs').RmOptions) => {
      if (path === refused.remove) throw deny('EPERM', 'unlink', path);
      fs.rmSync(path, options);
    },
  };
});

describe("the directory every platform on the machine takes its installation's lock in", () => {
  let tmp = '';
  let dir = '';
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'berth-installations-'));
    dir = join(tmp, 'berth-installations');
    vi.stubEnv('TMPDIR', tmp);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    refused.write = '';
    refused.remove = '';
    rmSync(tmp, { recursive: true, force: true });
  });

  it("is every user's to add locks to, as /tmp is, also when an earlier Berth made it this user's alone", () => {
    mkdirSync(dir, { mode: 0o755 });
    const release = lockInstallation('berth');
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
    release();
    rmSync(dir, { recursive: true });
    lockInstallation('berth')();
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
  });

  it("is told, with how to mend it, when it is another user's that this one may not write to", () => {
    refused.write = dir;
    expect(() => lockInstallation('berth')).toThrow(
      new Error(
        `${dir}, where each Berth on this machine takes its installation's lock, is another user's, and this one may not write there (EACCES: permission denied, access '${dir}'): as its owner or root, run "chmod 1777 ${dir}"`,
      ),
    );
  });

  it("tells of a gone Berth's lock that another user left, which this user may not remove", () => {
    mkdirSync(dir);
    const file = join(dir, 'berth.lock');
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(file, gone.stdout);
    refused.remove = file;
    expect(() => lockInstallation('berth')).toThrow(
      new Error(
        `${file} is the lock of a Berth that is gone, which this user may not remove (EPERM: permission denied, unlink '${file}'): as its owner or root, delete it`,
      ),
    );
  });
});

describe('a data directory another user made', () => {
  afterEach(() => {
    refused.write = '';
  });

  it("is told with whose it is and how to make it this user's, as after a `sudo npm start`", () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'berth-data-')), '.berth');
    mkdirSync(dir);
    refused.write = dir;
    expect(() => lockDataDir(dir)).toThrow(
      new Error(
        `the data directory ${dir} is another user's (uid ${statSync(dir).uid}), and this one may not write there (EACCES: permission denied, access '${dir}'): as root, run "chown -R ${userInfo().username} ${dir}" to make it this user's, or give this one its own BERTH_DATA_DIR`,
      ),
    );
    rmSync(dirname(dir), { recursive: true, force: true });
  });
});
