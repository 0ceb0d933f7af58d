import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDockerd } from '../../../functions/local/docker-engine.ts';
import { executablesFirstOnPath } from '../../support/fake-executables.ts';

/** A `dockerd` first on PATH that runs `script`; the directory it and the log are in. */
const fakeDockerd = (script: string) => executablesFirstOnPath({ dockerd: script });

const never = async () => false;

describe('starting dockerd', () => {
  let dir = '';
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says why dockerd exited, in its words of this start, where it would not run', async () => {
    dir = fakeDockerd(
      'echo "failed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid" >&2; exit 1',
    );
    writeFileSync(join(dir, 'dockerd.log'), "an earlier start's last words\n");
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await expect(startDockerd(dir, never)).rejects.toThrow(
      new Error(
        `dockerd exited with code 1: failed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid (log: ${join(dir, 'dockerd.log')})`,
      ),
    );
  });

  it('says dockerd could not be started where it cannot be run', async () => {
    dir = fakeDockerd('exit 0');
    chmodSync(join(dir, 'dockerd'), 0o644);
    vi.stubEnv('PATH', dir);
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await expect(startDockerd(dir, never)).rejects.toThrow(
      new Error(`dockerd could not be started (spawn dockerd EACCES) (log: ${join(dir, 'dockerd.log')})`),
    );
  });

  it('says dockerd did not answer, with its last words, where it runs but never answers', async () => {
    dir = fakeDockerd('echo "starting up"; exec sleep 2');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await expect(startDockerd(dir, never, 500)).rejects.toThrow(
      new Error(`dockerd did not answer within 0.5 s: starting up (log: ${join(dir, 'dockerd.log')})`),
    );
  });

  it('says dockerd was killed as soon as it is, not once the wait is over', async () => {
    dir = fakeDockerd('echo "starting up"; kill -KILL $$');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await expect(startDockerd(dir, never, 60_000)).rejects.toThrow(
      new Error(`dockerd was killed by SIGKILL: starting up (log: ${join(dir, 'dockerd.log')})`),
    );
  });

  it('resolves once the engine answers', async () => {
    dir = fakeDockerd('exec sleep 2');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    let asked = 0;
    await startDockerd(dir, async () => ++asked === 3);
    expect(asked).toBe(3);
  });
});
