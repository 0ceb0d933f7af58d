import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';

/** An HTTP proxy that forwards nothing and records what it was asked for. */
async function recordingProxy() {
  const asked: string[] = [];
  const proxy = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.writeHead(502).end();
  });
  proxy.on('connect', (req, socket) => {
    asked.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, asked, proxy };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('DynamoDB Local', () => {
  it('asks nothing of AWS as it starts: its telemetry is off', async () => {
    // Its AWS SDK goes through the proxy the environment names, so what it would send out is asked of this one; its
    // telemetry asks Cognito for an identity before it starts to listen.
    const { url, asked, proxy } = await recordingProxy();
    vi.stubEnv('HTTPS_PROXY', url);
    vi.stubEnv('HTTP_PROXY', url);
    try {
      const dynamodb = await startDynamoDbLocal();
      await dynamodb.stop();
    } finally {
      proxy.close();
    }
    expect(asked).toEqual([]);
  });
});
