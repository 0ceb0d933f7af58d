import { describe, expect, inject, it } from 'vitest';
import {
  blockMetadataFromContainers,
  iptables,
  METADATA_ADDRESS,
  METADATA_RULE,
} from '../../functions/local/metadata-firewall.ts';
import { dockerCli } from '../support/docker-cli.ts';

const RULE_LINE = `-A ${METADATA_RULE.join(' ')}`;

/** DOCKER-USER's rules, as `iptables -S` prints them: with `counters`, each rule's packets and bytes. */
function dockerUserRules(counters = false): string[] {
  const listed = iptables('-S', 'DOCKER-USER', ...(counters ? ['-v'] : []));
  if (listed.status !== 0) throw new Error(`iptables -S DOCKER-USER failed: ${listed.stderr}`);
  return listed.stdout.split('\n').filter(Boolean);
}

/** The packets the metadata rule has dropped so far. */
function droppedPackets(): number {
  const rule = dockerUserRules(true).find((line) => line.includes(METADATA_ADDRESS) && line.includes('DROP'));
  const packets = rule?.match(/-c (\d+) \d+/)?.[1];
  if (packets === undefined)
    throw new Error(`no metadata rule in DOCKER-USER: ${dockerUserRules().join('; ')}`);
  return Number(packets);
}

// iptables needs root, as starting dockerd does: Berth adds the rule only to an engine it started, as root. CI runs
// as root.
describe.runIf(process.getuid?.() === 0)("app containers and the VM's metadata address", () => {
  it('adds one DROP rule for the metadata address, which a container request to it meets', () => {
    while (iptables('-C', ...METADATA_RULE).status === 0) iptables('-D', ...METADATA_RULE);
    expect(dockerUserRules()).not.toContain(RULE_LINE);

    blockMetadataFromContainers();
    blockMetadataFromContainers();
    expect(dockerUserRules().filter((line) => line === RULE_LINE)).toHaveLength(1);
    // First in the chain, ahead of Docker's own RETURN.
    expect(dockerUserRules()[1]).toBe(RULE_LINE);

    const before = droppedPackets();
    // --init: busybox's timeout signals the process it runs as, which as PID 1 would ignore the signal.
    const request = dockerCli().run([
      'run',
      '--rm',
      '--init',
      '--entrypoint',
      '/bin/busybox',
      inject('testImage'),
      'timeout',
      '2',
      'wget',
      '-q',
      '-O',
      '-',
      'http://169.254.169.254/latest/meta-data/',
    ]);
    expect(request.status).not.toBe(0);
    expect(droppedPackets()).toBeGreaterThan(before);
  });
});
