import { createServer, type Server, setGlobalProxyFromEnv } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NetHealthProbe } from '../../../functions/adapters/probe/net-health-probe.ts';
import { workerPort } from '../../support/worker-port.ts';

const servers: Server[] = [];

/** A server on 127.0.0.1 that answers GET /ok with 200, /down with 503, and /slow never. */
async function app(): Promise<{ host: string; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/slow') return;
    res.writeHead(req.url === '/ok' ? 200 : 503).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('NetHealthProbe', () => {
  const probe = new NetHealthProbe();
  const check = { timeoutSeconds: 1 };

  it('passes a 2xx answer and an accepted connection', async () => {
    const endpoint = await app();
    expect(await probe.probe(endpoint, { ...check, path: '/ok' })).toEqual({ ok: true });
    expect(await probe.probe(endpoint, check)).toEqual({ ok: true });
  });

  it('says why a check failed, naming the port and path but never the address', async () => {
    const endpoint = await app();
    const closed = { host: '127.0.0.1', port: await workerPort() };
    const answers = [
      await probe.probe(endpoint, { ...check, path: '/down' }),
      await probe.probe(endpoint, { ...check, path: '/slow' }),
      await probe.probe(closed, { ...check, path: '/ok' }),
      await probe.probe(closed, check),
    ];
    expect(answers).toEqual([
      { ok: false, why: `GET /down on port ${endpoint.port} answered 503` },
      { ok: false, why: `GET /slow on port ${endpoint.port} had no answer within 1.5 s` },
      { ok: false, why: `GET /ok on port ${closed.port}: connection refused` },
      { ok: false, why: `TCP connect to port ${closed.port}: connection refused` },
    ]);
  });

  it('reaches the replica itself when Node is told to use the proxy the environment names (NODE_USE_ENV_PROXY)', async () => {
    const endpoint = await app();
    const proxied: string[] = [];
    const proxy = createServer((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      res.writeHead(502).end();
    });
    servers.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    // What NODE_USE_ENV_PROXY=1 does at the process's start, with a proxy that reaches no replica.
    const restore = setGlobalProxyFromEnv({
      HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    });
    try {
      expect(await probe.probe(endpoint, { ...check, path: '/ok' })).toEqual({ ok: true });
    } finally {
      restore();
    }
    expect(proxied).toEqual([]);
  });
});
