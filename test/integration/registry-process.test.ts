import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { localApi, startLocalApiRegistry } from '../support/local-api.ts';
import { workerPort } from '../support/worker-port.ts';

describe('the registry process (DynamoDB Local, the distribution registry)', () => {
  it.each([
    ['a registry anyone may push to', 200, {}],
    [
      "another Berth's registry",
      401,
      { 'www-authenticate': 'Bearer realm="http://127.0.0.1:9/registry/auth",service="berth-registry"' },
    ],
  ])(
    'does not take %s on its port for itself, and says it did not start, naming the process on the port',
    async (_, status, headers) => {
      const registryPort = await workerPort();
      const setup = await localApi({ registryPort });
      const other = createServer((_req, res) => res.writeHead(status, headers).end('{}'));
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
        other.close();
      }
    },
  );
});
