import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../functions/local/free-port.ts';

describe.runIf(process.platform === 'linux')('freePort', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('picks a port below the range outgoing connections take theirs from, free to listen on', async () => {
    const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeral);
    }
    const [port] = ports;
    const server = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
    server.close();
  });

  it('draws again rather than give a port the caller is about to listen on itself', async () => {
    const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
    const [mine, other] = [await freePort(), await freePort()];
    /** Math.random's answer that makes freePort draw `port`. */
    const drawing = (port: number) => (port - 20_000 + 0.5) / (ephemeral - 20_000);
    vi.spyOn(Math, 'random').mockReturnValueOnce(drawing(mine)).mockReturnValueOnce(drawing(other));
    expect(await freePort()).toBe(mine);
    vi.spyOn(Math, 'random').mockReturnValueOnce(drawing(mine)).mockReturnValueOnce(drawing(other));
    expect(await freePort([mine])).toBe(other);
  });
});
