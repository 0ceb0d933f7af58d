import { readFileSync } from 'node:fs';

/**
 * The IPv4 addresses a /proc/net/fib_trie names as this host's own: each `|-- <address>` whose next line is
 * `/32 host LOCAL`.
 */
function ipv4AddressesIn(fibTrie: string): string[] {
  const addresses = new Set<string>();
  let address: string | undefined;
  for (const line of fibTrie.split('\n')) {
    const leaf = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line);
    if (leaf) address = leaf[1];
    else if (address && /^\s*\/32 host LOCAL$/.test(line)) addresses.add(address);
  }
  return [...addresses];
}

/** The IPv6 addresses of /proc/net/if_inet6: each line's first field, 32 hex digits in network order. */
function ipv6AddressesIn(ifInet6: string): string[] {
  return ifInet6.split('\n').flatMap((line) => {
    const hex = line.trim().split(/\s+/)[0] ?? '';
    return /^[0-9a-f]{32}$/.test(hex) ? [(hex.match(/.{4}/g) ?? []).join(':')] : [];
  });
}

const readOrEmpty = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/**
 * The addresses of every interface in the network a /proc `net` directory shows (`/proc/net`: this process's), up
 * or down, where Node's `os.networkInterfaces()` leaves out an interface that is not running — a Docker bridge no
 * container is attached to. IPv6's table is missing where IPv6 is off.
 */
export function localAddresses(netDir = '/proc/net'): string[] {
  return [
    ...ipv4AddressesIn(readOrEmpty(`${netDir}/fib_trie`)),
    ...ipv6AddressesIn(readOrEmpty(`${netDir}/if_inet6`)),
  ];
}
