import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { portHolder } from '../../../functions/local/port-holder.ts';
import { workerPort } from '../../support/worker-port.ts';

describe.runIf(process.platform === 'linux')('portHolder', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  /**
   * A Node process listening on `port` at `host`, its command line padded to `padding` more characters. It is named
   * `node` (its argv[0]), so its command line is as long wherever the checkout is.
   */
  async function listener(port: number, host: string, padding = 0) {
    const script = `require('net').createServer().listen(${port},'${host}',()=>console.log(1))${padding ? `//${'x'.repeat(padding)}` : ''}`;
    const child = spawn(process.execPath, ['-e', script], {
      argv0: 'node',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await once(child.stdout, 'data');
    return { pid: child.pid, command: `node -e ${script}` };
  }

  it.each(['127.0.0.1', '0.0.0.0', '::1', '::'])(
    'names the process listening on a port at %s, with its command line',
    async (host) => {
      const port = await workerPort();
      const { pid, command } = await listener(port, host);
      expect(portHolder(port)).toBe(`pid ${pid} (${command})`);
    },
  );

  it('cuts a long command line to 120 characters', async () => {
    const port = await workerPort();
    const { pid, command } = await listener(port, '127.0.0.1', 200);
    expect(portHolder(port)).toBe(`pid ${pid} (${command.slice(0, 119)}…)`);
  });

  it('names nothing where nothing listens, nor where the port is only connected from', async () => {
    const [listening, connecting] = [await workerPort(), await workerPort()];
    expect(portHolder(connecting)).toBeUndefined();
    const server = createServer().listen(listening, '127.0.0.1');
    await once(server, 'listening');
    const client = connect({ port: listening, host: '127.0.0.1', localPort: connecting });
    try {
      await once(client, 'connect');
      expect(portHolder(connecting)).toBeUndefined();
      expect(portHolder(listening)).toMatch(new RegExp(`^pid ${process.pid} \\(`));
    } finally {
      client.destroy();
      server.close();
    }
  });
});
