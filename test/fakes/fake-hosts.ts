import type { HostResolver } from '../../functions/core/ports.ts';

/** Host names resolve to the addresses the test gives them; the others resolve to nothing. */
export class FakeHosts implements HostResolver {
  readonly names = new Map<string, string[]>();

  async addressesOf(host: string) {
    return this.names.get(host) ?? [];
  }
}
