import { describe, expect, it } from 'vitest';
import { systemHosts } from '../../functions/adapters/dns/system-hosts.ts';
import { isPublicAddress } from '../../functions/core/public-address.ts';

describe("the machine's resolver, as the image check asks it", () => {
  it('resolves a name through the hosts file, as the Docker Engine does for its pulls', async () => {
    const addresses = await systemHosts.addressesOf('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((address) => !isPublicAddress(address))).toBe(true);
  });

  it('answers no address for a name that does not resolve', async () => {
    // `.invalid` never resolves (RFC 2606).
    expect(await systemHosts.addressesOf('registry.invalid')).toEqual([]);
  });
});
