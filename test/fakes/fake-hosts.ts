import type { HostResolver } from '../../functions/core/ports.ts';

/**
 * Host names resolve to the addresses the test gives them; the others resolve to nothing. The runtimes' network has
 * the private domains the test gives it.
 */
export class FakeHosts implements HostResolver {
  readonly names = new Map<string, string[]>();
  readonly privateDomains: string[] = [];

  async addressesOf(host: string) {
    return this.names.get(host) ?? [];
  }

  async privateDomainOf(host: string) {
    return this.privateDomains.find((domain) => host === domain || host.endsWith(`.${domain}`));
  }
}
