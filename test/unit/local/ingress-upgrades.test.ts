import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, scaleApp } from '../../../functions/core/apps.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { createIngress } from '../../../functions/local/ingress.ts';
import { tunnelUpgrades } from '../../../functions/local/ingress-upgrades.ts';
import { RoutingTable } from '../../../functions/local/routing-table.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { failingCalls } from '../../support/failing-calls.ts';
import { bareConnection, untilNoConnections } from '../../support/raw-http.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A replica that accepts any upgrade: 101, then the request head it saw, then everything it gets back. */
async function echoReplica() {
  const server = createServer((_req, res) => res.end('plain'));
  const joined = new Set<Socket>();
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    joined.add(socket);
    const seen = [`${req.method} ${req.url}`, ...Object.entries(req.headers).map(([k, v]) => `${k}=${v}`)];
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    socket.write(`${JSON.stringify(seen)}\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dropAll = () => {
    for (const socket of joined) socket.resetAndDestroy();
  };
  closers.push(() => {
    dropAll();
    server.close();
  });
  return { server, dropAll, joined, endpoint: { host: '127.0.0.1', port: portOf(server) } };
}

/** The ingress on a free port, with upgrades tunnelled, over an app `web` of tenant `acme`. */
async function ingress(options: { replicas?: number; idleMs?: number; appsFailWith?: Error } = {}) {
  const deps = await fakeCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
  await createApp(deps, 'acme', { name: 'web', ...spec });
  if (options.replicas !== undefined) await scaleApp(deps, 'acme', 'web', options.replicas);
  const store: typeof deps.store = options.appsFailWith
    ? failingCalls(deps.store, 'getApp', options.appsFailWith)
    : deps.store;
  const routes = new RoutingTable();
  const server = serve({
    fetch: createIngress(routes, store).fetch,
    hostname: '127.0.0.1',
    port: 0,
  }) as Server;
  const tunnels = tunnelUpgrades(server, routes, store, options.idleMs);
  await once(server, 'listening');
  closers.push(() => {
    tunnels.close();
    server.close();
  });
  return { routes, server, tunnels, port: portOf(server) };
}

/** A raw client: sends an upgrade request (for `target`), collects all it gets back. */
function upgrade(port: number, host: string, extraHeaders = '', target = '/chat?room=1') {
  const connection = bareConnection(port);
  connection.socket.write(
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n${extraHeaders}\r\n`,
  );
  return connection;
}

describe('connection upgrades through the local ingress', () => {
  it('joins the client to a ready replica: the request as it came, with the forwarding headers, bytes both ways', async () => {
    const replica = await echoReplica();
    const { routes, port } = await ingress();
    await routes.route('acme', 'web', [replica.endpoint]);

    const client = upgrade(
      port,
      `web.acme.localhost:${port}`,
      'X-Forwarded-Host: evil.example\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Port: 1\r\nConstructor: kept\r\n',
    );
    await client.arrived('\n');
    expect(client.received()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const seen = JSON.parse(client.received().split('\r\n\r\n')[1]?.split('\n')[0] ?? '') as string[];
    expect(seen).toContain('GET /chat?room=1');
    expect(seen).toContain(`x-forwarded-host=web.acme.localhost:${port}`);
    expect(seen).toContain('x-forwarded-proto=http');
    expect(seen).toContain(`x-forwarded-port=${port}`);
    expect(seen).toContain('x-forwarded-for=10.0.0.1, 127.0.0.1');
    expect(seen).toContain('upgrade=echo');
    expect(seen).toContain('constructor=kept');
    expect(seen.join()).not.toContain('evil.example');

    client.socket.write('ping-1\n');
    await client.arrived('ping-1\n');
    client.socket.write('ping-2\n');
    await client.arrived('ping-2\n');

    // A replica that drops the connection (a reset, not a close) ends the client's too.
    replica.dropAll();
    await client.closed;
  });

  it('takes the host of a request target in absolute form over its Host header (RFC 9112 §3.2.2) and sends the origin form', async () => {
    const replica = await echoReplica();
    const { routes, port } = await ingress();
    await routes.route('acme', 'web', [replica.endpoint]);

    const client = upgrade(port, 'other.acme.localhost', '', `http://web.acme.localhost:${port}/chat?room=1`);
    await client.arrived('\n');
    const seen = JSON.parse(client.received().split('\r\n\r\n')[1]?.split('\n')[0] ?? '') as string[];
    expect(seen).toContain('GET /chat?room=1');
    expect(seen).toContain(`host=web.acme.localhost:${port}`);
    expect(seen).toContain(`x-forwarded-host=web.acme.localhost:${port}`);
    expect(seen.join()).not.toContain('other.acme.localhost');

    const elsewhere = upgrade(
      port,
      `web.acme.localhost:${port}`,
      '',
      `http://other.acme.localhost:${port}/chat`,
    );
    await elsewhere.closed;
    expect(elsewhere.received()).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(elsewhere.received()).toContain('"instance":"/chat"');
  });

  it('passes on what the client sent after its request in the same packet, and ends the tunnel when the client resets it', async () => {
    const replica = await echoReplica();
    const { routes, port } = await ingress();
    await routes.route('acme', 'web', [replica.endpoint]);
    const client = bareConnection(port);
    // The first frame in the request's own write: Node hands it to the upgrade as its head.
    client.socket.write(
      `GET /chat HTTP/1.1\r\nHost: web.acme.localhost:${port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst\n`,
    );
    await client.arrived('first\n');
    const [joined] = replica.joined;
    if (!joined) throw new Error('the replica was not joined');
    // A reset, where no end comes through the pipe: the replica's side is closed all the same.
    client.socket.resetAndDestroy();
    await once(joined, 'close');
  });

  it('leaves the replica no connection when the client went while its replica was being reached', async () => {
    // Closed (its side of the connection ended) or reset.
    for (const end of [(c: Socket) => c.destroy(), (c: Socket) => c.resetAndDestroy()]) {
      const replica = await echoReplica();
      const { routes, server, port } = await ingress();
      // Just started: the upgrade waits for the app's first ready replica.
      routes.rebuilding(10_000);
      const client = upgrade(port, `web.acme.localhost:${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      end(client.socket);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reached = once(replica.server, 'connection');
      await routes.route('acme', 'web', [replica.endpoint]);
      await reached;
      // Neither the replica's connection nor the client's is kept.
      await untilNoConnections(replica.server, 2000);
      await untilNoConnections(server, 2000);
      expect(replica.joined.size).toBe(0);
    }
  });

  it('keeps a tunnel open while something passes, and closes it once nothing has for the idle timeout', async () => {
    const replica = await echoReplica();
    const { routes, port } = await ingress({ idleMs: 300 });
    await routes.route('acme', 'web', [replica.endpoint]);
    const client = upgrade(port, `web.acme.localhost:${port}`);
    await client.arrived('\n');
    // 800 ms in all, never 300 ms quiet.
    for (let ping = 1; ping <= 4; ping++) {
      client.socket.write(`ping-${ping}\n`);
      await client.arrived(`ping-${ping}\n`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(client.socket.destroyed).toBe(false);
    await client.closed;
  });

  it('passes over a replica that cannot be reached for the next ready one', async () => {
    const replica = await echoReplica();
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const goneEndpoint = { host: '127.0.0.1', port: portOf(gone) };
    await new Promise((resolve) => gone.close(resolve));
    const { routes, port } = await ingress();
    await routes.route('acme', 'web', [goneEndpoint, replica.endpoint]);

    const client = upgrade(port, `web.acme.localhost:${port}`);
    await client.arrived('\n');
    expect(client.received()).toMatch(/^HTTP\/1\.1 101 /);

    await routes.route('acme', 'web', [goneEndpoint]);
    const refused = upgrade(port, `web.acme.localhost:${port}`);
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refused.received()).toContain('retry-after: 1');
    expect(refused.received()).toContain('"detail":"app \\"web\\" did not answer; retry shortly"');
  });

  it('answers as the ingress does for any request when there is nothing to join, and closes', async () => {
    const { port } = await ingress({ replicas: 0 });
    const cases = [
      { host: 'nope.localhost', status: '404 Not Found', code: 'route.notFound' },
      { host: 'other.acme.localhost', status: '404 Not Found', code: 'app.notFound' },
      { host: 'web.acme.localhost', status: '503 Service Unavailable', code: 'unavailable' },
    ];
    for (const { host, status, code } of cases) {
      const client = upgrade(port, host);
      await client.closed;
      const [head = '', body = ''] = client.received().split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status}\\r\\n`));
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(body)).toMatchObject({ code, instance: '/chat' });
    }
  });

  it('answers 503 with Retry-After while the table is unavailable, as for any request, and logs it', async () => {
    const { port } = await ingress({
      appsFailWith: new UnavailableError('the database is unavailable; retry shortly'),
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const client = upgrade(port, 'web.acme.localhost');
      await client.closed;
      const [head = '', body = ''] = client.received().split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(head.toLowerCase()).toContain('retry-after: 1');
      expect(JSON.parse(body)).toMatchObject({
        code: 'unavailable',
        detail: 'the database is unavailable; retry shortly',
      });
      expect(logged).toHaveBeenCalledTimes(1);
      const line = String(logged.mock.calls[0]?.[0]);
      expect(line).toMatch(/^\[berth\] ingress answered unavailable \{/);
      expect(line).toContain("host: 'web.acme.localhost'");
    } finally {
      logged.mockRestore();
    }
  });

  it('closes the connection of a refused upgrade once its client closes or resets it, whatever it sent after', async () => {
    const { server, port } = await ingress({ replicas: 0 });
    const ends = [(c: Socket) => c.end(), (c: Socket) => c.destroy(), (c: Socket) => c.resetAndDestroy()];
    for (const end of ends) {
      const client = upgrade(port, 'nope.acme.localhost');
      await client.arrived('HTTP/1.1 404 Not Found');
      // Bytes for the tunnel the client hoped for, sent after the refusal: only reading them lets its close be seen.
      client.socket.write('x'.repeat(100));
      end(client.socket);
      await client.closed.catch(() => undefined);
    }
    await untilNoConnections(server, 2000);
  });

  it('closes the connection of a refused upgrade whose client keeps its side open (after REFUSED_LINGER_MS)', async () => {
    const { server, port } = await ingress({ replicas: 0 });
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('data', () => {});
    client.write(
      'GET /chat HTTP/1.1\r\nHost: nope.acme.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
    );
    await once(client, 'end');
    // The ingress has answered and closed its side; the client never closes its own, yet the ingress lets it go.
    await untilNoConnections(server, 10_000);
    client.destroy();
  });

  it('ends the tunnels still open when closed, so the server can close', async () => {
    const replica = await echoReplica();
    const { routes, server, tunnels, port } = await ingress();
    await routes.route('acme', 'web', [replica.endpoint]);
    const client = upgrade(port, `web.acme.localhost:${port}`);
    await client.arrived('\n');

    const serverClosed = new Promise((resolve) => server.close(resolve));
    tunnels.close();
    await client.closed;
    await serverClosed;
  });
});
