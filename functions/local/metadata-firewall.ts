import { spawnSync } from 'node:child_process';

/** Where a cloud VM answers for itself (EC2, Google Compute Engine, Azure): its role credentials included. */
export const METADATA_ADDRESS = '169.254.169.254/32';

/** The rule, in DOCKER-USER: Docker's chain for the host's own rules, which it runs first on containers' traffic. */
export const METADATA_RULE = ['DOCKER-USER', '-d', METADATA_ADDRESS, '-j', 'DROP'];

/** `iptables` with `args`, waiting for the lock dockerd may hold; never through a shell. */
export const iptables = (...args: string[]) => spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });

/**
 * Keeps the containers of the engine Berth started from the VM's metadata address: on a cloud VM a tenant's app
 * could otherwise take the VM's credentials (IMDSv1, or IMDSv2 with a hop limit over 1, AL2023's default). Adds
 * the one DROP rule unless it is there; the host's own traffic is untouched, as it never goes through FORWARD.
 */
export function blockMetadataFromContainers(): void {
  if (iptables('-C', ...METADATA_RULE).status === 0) return;
  const inserted = iptables('-I', ...METADATA_RULE);
  if (inserted.status !== 0) {
    throw new Error(
      `could not keep app containers from the VM's metadata address ("iptables -I ${METADATA_RULE.join(' ')}"): ${(inserted.stderr || inserted.error?.message || '').trim()}`,
    );
  }
}
