import { canRun, installOrExplain } from './system-packages.ts';

/**
 * openssl, which makes the registry's token signing key and its certificate (adapters/registry/token-keys.ts): on a
 * slim Debian (a container's, say) it comes only with ca-certificates, which nothing else Berth installs brings.
 */
export function ensureOpenssl(): void {
  if (canRun('openssl', ['version'])) return;
  installOrExplain(
    ['openssl'],
    "openssl (for the registry's token certificate)",
    'Install openssl ("apt-get install openssl" on Debian, "dnf install openssl" on Fedora).',
  );
}
