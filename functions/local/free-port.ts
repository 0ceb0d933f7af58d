import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first port of the range the OS takes ports from for outgoing connections: Linux's setting, else IANA's. */
function ephemeralPortsFrom(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0) return low;
  } catch {
    // not Linux
  }
  return 49152;
}

/** Ports from here up are rarely a service's own. */
export const LOWEST_PORT = 20_000;

/** Whether `port` (0: any the OS gives) can be listened on at 127.0.0.1 now; the port, if so. */
export function listensOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, below the range the OS gives outgoing connections: a port from
 * that range (what `listen(0)` picks) may be taken by any connection between this check and the listen that uses it.
 * None of `besides`: ports the caller is about to listen on itself.
 */
export async function freePort(besides: readonly number[] = []): Promise<number> {
  const ephemeral = ephemeralPortsFrom();
  for (let attempt = 0; ephemeral - LOWEST_PORT > 1000 && attempt < 50; attempt++) {
    const drawn = LOWEST_PORT + Math.floor(Math.random() * (ephemeral - LOWEST_PORT));
    const port = besides.includes(drawn) ? undefined : await listensOn(drawn);
    if (port) return port;
  }
  const any = await listensOn(0);
  if (!any) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}
