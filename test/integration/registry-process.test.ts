import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import { describe, expect, it } from 'vitest';
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
            `^the registry did not start: port ${registryPort} is held by pid ${process.pid} \\(.*; see \\S+registry\\.log$`,
          ),
        );
      } finally {
        other.closeAllConnections();
        other.close();
      }
    },
  );
});
