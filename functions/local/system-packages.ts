import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True when `command --version`-style probing of an executable succeeds. */
export function canRun(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

export const isRootOnDebian = () => process.getuid?.() === 0 && existsSync('/etc/debian_version');

let aptUpdated = false;

/**
 * Installs Debian packages when we are root on Debian (a fresh machine or CI); elsewhere fails with a message
 * that names what to install. Arguments go to apt-get as an array, never through a shell.
 */
export function installOrExplain(packages: string[], what: string, hint: string): void {
  if (!isRootOnDebian()) throw new Error(`${what} is required but missing. ${hint}`);
  console.log(`[berth] installing ${packages.join(', ')} with apt-get (${what} is missing)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
}
