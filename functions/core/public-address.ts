import { BlockList } from 'node:net';

/**
 * Address ranges that are not the public internet (RFC 6890's special-purpose registries): this host, private and
 * shared networks, link-local (cloud metadata services), documentation, benchmarking, multicast and reserved space.
 * IPv6 forms that carry an IPv4 address (6to4, Teredo, NAT64) are refused whole; IPv4-mapped IPv6 addresses are
 * checked as the IPv4 address they map.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // The unspecified and loopback addresses, and the deprecated IPv4-compatible ones (::127.0.0.1).
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IPv4 or IPv6 literal) is on the public internet. */
export const isPublicAddress = (address: string): boolean =>
  !NOT_PUBLIC.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
