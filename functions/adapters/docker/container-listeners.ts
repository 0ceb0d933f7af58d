import { readFileSync } from 'node:fs';

/** A TCP socket listening inside a container: its address as printed (`127.0.0.1`, `::`) and its port. */
export interface Listener {
  address: string;
  port: number;
  loopback: boolean;
}

/** /proc/net/tcp's state of a listening socket. */
const LISTEN = '0A';

/** An address of /proc/net/tcp{,6}: 32-bit words in hex, each in the kernel's (little-endian) byte order. */
function addressOf(hex: string): { address: string; loopback: boolean } {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) => [...Buffer.from(word, 'hex').reverse()]);
  if (bytes.length === 4) return { address: bytes.join('.'), loopback: bytes[0] === 127 };
  const v4Mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4Mapped) {
    const v4 = bytes.slice(12);
    return { address: `::ffff:${v4.join('.')}`, loopback: v4[0] === 127 };
  }
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  );
  const address = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return { address, loopback: address === '::1' };
}

/** The listening sockets of a /proc/<pid>/net/tcp or tcp6 table. */
export function listenersIn(table: string): Listener[] {
  return table
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      // sl local_address rem_address st …
      const [, local, , state] = line.trim().split(/\s+/);
      const [hex, port] = local?.split(':') ?? [];
      if (state !== LISTEN || !hex || !port) return [];
      return [{ ...addressOf(hex), port: Number.parseInt(port, 16) }];
    });
}

/**
 * The TCP sockets listening in the network of process `pid` (a container's first process), from Linux's /proc;
 * undefined where they cannot be read.
 */
export function listenersOf(pid: number): Listener[] | undefined {
  try {
    return ['tcp', 'tcp6'].flatMap((table) => listenersIn(readFileSync(`/proc/${pid}/net/${table}`, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Why nothing outside a container reaches its app on `port`, told from what listens inside it: on the loopback
 * address alone (most frameworks' development servers listen so), on other ports, or on none. Undefined when
 * something listens on `port` at an address others reach: the connection failed for another reason.
 */
export function unreachableBecause(listeners: Listener[], port: number): string | undefined {
  const onPort = listeners.filter((l) => l.port === port);
  if (onPort.some((l) => !l.loopback)) return undefined;
  if (onPort.length) {
    const where = [...new Set(onPort.map((l) => (l.address.includes(':') ? `[${l.address}]` : l.address)))];
    return `it listens on ${where.map((a) => `${a}:${port}`).join(' and ')} inside its container, which nothing outside the container reaches: listen on 0.0.0.0`;
  }
  const others = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
  if (!others.length)
    return 'nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck.gracePeriodSeconds';
  return `it listens on port ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}, not on ${port}, the app's port, which it is given as PORT`;
}
