import { describe, expect, it } from 'vitest';
import { listenersIn } from '../../../functions/adapters/linux/tcp-listeners.ts';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
/** A row of /proc/net/tcp{,6}: its local address, and its state (0A: listening, 01: established). */
const row = (local: string, state = '0A') =>
  `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1360375 1`;

describe('the sockets listening in a network namespace', () => {
  it("are read from the kernel's tables, IPv4 and IPv6, its addresses in network order", () => {
    const v4 = [HEADER, row('0100007F:1F90'), row('00000000:1388'), row('0200000A:0050', '01')].join('\n');
    expect(listenersIn(v4)).toEqual([
      { address: '127.0.0.1', port: 8080, loopback: true, inode: '1360375' },
      { address: '0.0.0.0', port: 5000, loopback: false, inode: '1360375' },
    ]);
    const v6 = [
      HEADER,
      row('00000000000000000000000001000000:1F90'),
      row('00000000000000000000000000000000:1F90'),
      row('0000000000000000FFFF00000100007F:0BB8'),
      row('000080FE00000000FF005452FEA0BB12:0050'),
    ].join('\n');
    expect(listenersIn(v6)).toEqual([
      { address: '::1', port: 8080, loopback: true, inode: '1360375' },
      { address: '::', port: 8080, loopback: false, inode: '1360375' },
      { address: '::ffff:127.0.0.1', port: 3000, loopback: true, inode: '1360375' },
      { address: 'fe80::5254:ff:12bb:a0fe', port: 80, loopback: false, inode: '1360375' },
    ]);
  });
});
