import { readFileSync } from 'node:fs';

/** A listening TCP socket: its address as printed (`127.0.0.1`, `::`), its port, and its inode (the socket's id). */
export interface Listener {
  address: string;
  port: number;
  loopback: boolean;
  inode: string;
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

/** The listening sockets of a /proc/net/tcp or tcp6 table. */
export function listenersIn(table: string): Listener[] {
  return table
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [hex, port] = fields[1]?.split(':') ?? [];
      const inode = fields[9];
      if (fields[3] !== LISTEN || !hex || !port || !inode) return [];
      return [{ ...addressOf(hex), port: Number.parseInt(port, 16), inode }];
    });
}

/**
 * The TCP sockets listening in the network a /proc `net` directory shows (`/proc/net`: this process's; `/proc/<pid>/net`:
 * that process's, a container's first one), from its tcp and tcp6 tables; a table that cannot be read (tcp6 where IPv6
 * is off) is left out, and undefined is returned where none can be.
 */
export function listenersOf(netDir: string): Listener[] | undefined {
  const tables = ['tcp', 'tcp6'].flatMap((table) => {
    try {
      return [readFileSync(`${netDir}/${table}`, 'utf8')];
    } catch {
      return [];
    }
  });
  return tables.length ? tables.flatMap(listenersIn) : undefined;
}
