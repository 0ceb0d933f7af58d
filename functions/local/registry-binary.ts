import { spawnSync } from 'node:child_process';
import { installOrExplain } from './system-packages.ts';

/**
 * The names the CNCF distribution registry's binary goes by: Debian's and Alpine's packages call it docker-registry;
 * its releases, and Fedora's docker-distribution package, registry.
 */
const NAMES = ['docker-registry', 'registry'];

/**
 * How distribution 2.x names itself in its version line (`docker-registry github.com/docker/distribution 2.8.2+ds1`).
 * 3.x (`github.com/distribution/distribution/v3`) trusts the key that signs a token by its RFC 7638 thumbprint as the
 * token's `kid`, where Berth's tokens name it as 2.x reads it, so 3.x refuses every token Berth gives.
 */
const VERSION_2 = 'github.com/docker/distribution ';

const INSTALL_HINT =
  'Install distribution 2.8 ("apt-get install docker-registry" on Debian, "dnf install docker-distribution" on Fedora, or the registry binary of a 2.8 release from github.com/distribution/distribution).';

/**
 * What `name --version` prints, or undefined where no such executable runs, or it does not answer within 5 s (a
 * program of that name that is not the registry may do anything with the flag).
 */
function versionLine(name: string): string | undefined {
  const run = spawnSync(name, ['--version'], {
    encoding: 'utf8',
    timeout: 5_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/**
 * The registry binary to run: the first of NAMES on the PATH that is distribution 2.x. As root on Debian a missing
 * one is installed (docker-registry); elsewhere the error names what to install, or why a 3.x found will not do.
 */
export function ensureRegistryBinary(): string {
  const found: { name: string; version: string | undefined }[] = [];
  for (const name of NAMES) {
    const version = versionLine(name);
    if (version?.includes(VERSION_2)) return name;
    found.push({ name, version });
  }
  const other = found.find(({ version }) => version?.includes('github.com/distribution/distribution'));
  if (other) {
    throw new Error(
      `the ${other.name} on the PATH is ${other.version}, which refuses the tokens Berth gives (it looks a token's key up by its RFC 7638 thumbprint, not as distribution 2.x does). ${INSTALL_HINT}`,
    );
  }
  installOrExplain(['docker-registry'], 'the CNCF distribution registry', INSTALL_HINT);
  return 'docker-registry';
}
