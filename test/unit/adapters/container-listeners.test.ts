import { describe, expect, it } from 'vitest';
import { listenersIn, unreachableBecause } from '../../../functions/adapters/docker/container-listeners.ts';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
/** A row of /proc/net/tcp{,6}: its local address, and its state (0A: listening, 01: established). */
const row = (local: string, state = '0A') =>
  `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1360375 1`;

describe('the sockets listening in a container', () => {
  it("are read from the kernel's tables, IPv4 and IPv6, its addresses in network order", () => {
    const v4 = [HEADER, row('0100007F:1F90'), row('00000000:1388'), row('0200000A:0050', '01')].join('\n');
    expect(listenersIn(v4)).toEqual([
      { address: '127.0.0.1', port: 8080, loopback: true },
      { address: '0.0.0.0', port: 5000, loopback: false },
    ]);
    const v6 = [
      HEADER,
      row('00000000000000000000000001000000:1F90'),
      row('00000000000000000000000000000000:1F90'),
      row('0000000000000000FFFF00000100007F:0BB8'),
      row('000080FE00000000FF005452FEA0BB12:0050'),
    ].join('\n');
    expect(listenersIn(v6)).toEqual([
      { address: '::1', port: 8080, loopback: true },
      { address: '::', port: 8080, loopback: false },
      { address: '::ffff:127.0.0.1', port: 3000, loopback: true },
      { address: 'fe80::5254:ff:12bb:a0fe', port: 80, loopback: false },
    ]);
  });

  it('tell why the app cannot be reached on its port, or nothing when it listens there for everyone', () => {
    const on = (address: string, port: number) => ({
      address,
      port,
      loopback: /^(127\.|::1$|::ffff:127\.)/.test(address),
    });
    expect(unreachableBecause([on('127.0.0.1', 8080), on('::1', 8080)], 8080)).toBe(
      'it listens on 127.0.0.1:8080 and [::1]:8080 inside its container, which nothing outside the container reaches: listen on 0.0.0.0',
    );
    expect(unreachableBecause([on('127.0.0.1', 8080), on('::', 8080)], 8080)).toBeUndefined();
    expect(unreachableBecause([on('0.0.0.0', 3000), on('::', 3000), on('127.0.0.1', 9229)], 8080)).toBe(
      "it listens on port 3000, 9229, not on 8080, the app's port, which it is given as PORT",
    );
    expect(
      unreachableBecause(
        [1, 2, 3, 4].map((p) => on('0.0.0.0', p)),
        8080,
      ),
    ).toMatch(/on port 1, 2, 3, …, not/);
    expect(unreachableBecause([], 8080)).toBe(
      'nothing in its container listens on a TCP port yet: an app that takes longer to start needs a longer healthCheck.gracePeriodSeconds',
    );
  });
});
