import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localAddresses } from '../../../functions/adapters/linux/local-addresses.ts';

/**
 * A kernel's /proc/net tables: fib_trie (its Main table, and Local repeating it), with a Docker bridge no container is
 * on, whose interface is down; if_inet6 (address, interface index, prefix length, scope, flags, name).
 */
const PROC_NET = join(import.meta.dirname, '../../fixtures/proc-net');

const IPV4 = ['127.0.0.1', '172.17.0.1', '192.0.2.2'];

describe("this machine's addresses, as the kernel lists them", () => {
  it("are the fib_trie's host addresses, each once, not its networks' or broadcast ones, and if_inet6's", () => {
    expect(localAddresses(PROC_NET)).toEqual([
      ...IPV4,
      'fd00:0000:0000:0000:0000:0000:0000:0002',
      'fe80:0000:0000:0000:00fc:00ff:fe00:0001',
      '0000:0000:0000:0000:0000:0000:0000:0001',
    ]);
  });

  it('are the IPv4 ones alone where IPv6 is off, and none where no table can be read', () => {
    const ipv4Only = mkdtempSync(join(tmpdir(), 'berth-proc-net-'));
    try {
      copyFileSync(join(PROC_NET, 'fib_trie'), join(ipv4Only, 'fib_trie'));
      expect(localAddresses(ipv4Only)).toEqual(IPV4);
      expect(localAddresses(join(ipv4Only, 'missing'))).toEqual([]);
    } finally {
      rmSync(ipv4Only, { recursive: true });
    }
  });
});
