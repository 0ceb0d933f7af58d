import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { describe, expect, it } from 'vitest';
import { notAnswering } from '../../functions/local/registry-process.ts';
import { localApi, startLocalApiRegistry } from '../support/local-api.ts';
import { workerPort } from '../support/worker-port.ts';

describe('the registry process (DynamoDB Local, the distribution registry)', () => {
  it.each<[string, RequestListener]>([
    ['a registry anyone may push to', (_req, res) => res.writeHead(200).end('{}')],
    [
      "another Berth's registry",
      (_req, res) =>
        res
          .writeHead(401, {
            'www-authenticate': 'Bearer realm="http://127.0.0.1:9/registry/auth",service="berth-registry"',
          })
          .end('{}'),
    ],
    // Its question to the port would have waited for ever.
    ['a server that takes each request and never answers', () => {}],
  ])(
    'does not take %s on its port for itself, and says it did not start, naming the process on the port',
    async (_, answer) => {
      const registryPort = await workerPort();
      const setup = await localApi({ registryPort });
      const other = createServer(answer);
      other.listen(registryPort, '127.0.0.1');
      await once(other, 'listening');
      try {
        // The port is this test's: its process is named.
        await expect(startLocalApiRegistry(setup)).rejects.toThrow(
          new RegExp(
            `^the registry did not start: port ${registryPort} is held by pid ${process.pid} \\(.*\\) \\(it exited with code \\d+; it logged: .*address already in use.*\\); see \\S+registry\\.log$`,
          ),
        );
      } finally {
        other.closeAllConnections();
        other.close();
      }
    },
  );

  it('says why it did not start: that it exited, and the last lines it logged', async () => {
    const registryPort = await workerPort();
    const setup = await localApi({ registryPort });
    // The certificate it trusts tokens by, gone: the registry stops at once, saying so in its log.
    rmSync(setup.deps.registrySecrets.certificatePath);
    const refused = await startLocalApiRegistry(setup).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(refused).toMatch(
      /^the registry did not start \(it exited with code \d+; it logged: .*token\.crt.*\); see \S+registry\.log$/,
    );
  });

  it('says what it saw of a registry that ran and never answered as it should', async () => {
    const port = await workerPort();
    const other = createServer((_req, res) => res.writeHead(200).end('{}'));
    other.listen(port, '127.0.0.1');
    await once(other, 'listening');
    const running = spawn('sleep', ['30']);
    try {
      expect(await notAnswering(running, port, (res) => res.status === 401, 1500)).toBe(
        'it still ran after 1.5 s; /v2/ answered 200, not as it should',
      );
      other.close();
      expect(await notAnswering(running, port, (res) => res.status === 401, 1500)).toMatch(
        /^it still ran after 1\.5 s; \/v2\/ got no answer \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
      );
      // Killed, it has no exit code: told at once, not after the wait.
      running.kill('SIGKILL');
      await once(running, 'exit');
      expect(await notAnswering(running, port, () => true, 60_000)).toBe('it was killed by SIGKILL');
    } finally {
      running.kill();
      other.close();
    }
  });
});
