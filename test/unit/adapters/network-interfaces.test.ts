import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interfaceNames } from '../../../functions/adapters/linux/network-interfaces.ts';

/** A kernel's /proc/net/dev, with Docker's default bridge and a network's, both down: no container is on them. */
const PROC_NET = join(import.meta.dirname, '../../fixtures/proc-net');

describe("this machine's network interfaces, as the kernel lists them", () => {
  it('are every name of its dev table, those longer than its column too, up or down', () => {
    expect(interfaceNames(PROC_NET)).toEqual(['lo', 'br-8e0bdc1c2e36', 'docker0', 'eth0']);
  });

  it('are none where the table cannot be read', () => {
    expect(interfaceNames(join(PROC_NET, 'missing'))).toEqual([]);
  });
});
