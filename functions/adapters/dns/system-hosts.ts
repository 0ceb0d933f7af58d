import { lookup } from 'node:dns/promises';
import type { HostResolver } from '../../core/ports.ts';

/**
 * Names resolved as this machine resolves them (hosts file included), as the Docker Engine does for its pulls: the
 * runtime's network has no names of its own that this machine does not see.
 */
export const systemHosts: HostResolver = {
  async addressesOf(host) {
    try {
      return (await lookup(host, { all: true, verbatim: true })).map((found) => found.address);
    } catch {
      // ENOTFOUND, EAI_AGAIN and the like: a name this machine cannot resolve, which it cannot reach either.
      return [];
    }
  },
  async privateDomainOf() {
    return undefined;
  },
};
