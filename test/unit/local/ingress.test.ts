import { once } from 'node:events';
import { Agent, createServer, type IncomingHttpHeaders, request } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { describe, expect, it, vi } from 'vitest';
import {
  createApp,
  getAppRecord,
  scaleApp,
  startApp,
  stopApp,
  updateApp,
} from '../../../functions/core/apps.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { serveLocally } from '../../../functions/local/http-server.ts';
import { createIngress } from '../../../functions/local/ingress.ts';
import { RoutingTable } from '../../../functions/local/routing-table.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { failingCalls } from '../../support/failing-calls.ts';
import { ingressGet, ingressRequest } from '../../support/ingress-client.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

/** `server` listening on a free port of 127.0.0.1, as a replica's endpoint. */
async function listeningAt(server: Server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

describe('the local ingress without a ready replica', () => {
  it('answers 404 for no app, 503 with Retry-After while one starts, and 503 without it naming why when none will be (stopped, scaled to zero, suspended, failed)', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    const ingress = createIngress(new RoutingTable(), deps.store);
    const get = (host: string) => ingress.request('/', { headers: { host } });
    /** 503 without Retry-After: no replica is coming, and the answer says why. */
    const noneComing = async (detail: string) => {
      const res = await get('web.acme.localhost:8000');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(await res.json()).toMatchObject({ code: 'unavailable', detail });
    };

    expect((await get('web.acme.localhost:8000')).status).toBe(404);

    await createApp(deps, 'acme', { name: 'web', ...spec });
    const starting = await get('web.acme.localhost:8000');
    expect(starting.status).toBe(503);
    expect(starting.headers.get('retry-after')).toBe('1');
    // The fully qualified name, with its root's dot, is the same host.
    for (const host of ['web.acme.localhost.:8000', 'WEB.acme.localhost.'])
      expect((await get(host)).status).toBe(503);
    expect((await get('web.acme.localhost..')).status).toBe(404);

    await stopApp(deps, 'acme', 'web');
    await noneComing('app "web" is stopped; POST /v1/apps/web/start starts it');

    await startApp(deps, 'acme', 'web');
    await scaleApp(deps, 'acme', 'web', 0);
    await noneComing('app "web" is scaled to zero; POST /v1/apps/web/scale adds replicas');
    // Held there by a schedule, which would take back a replica POST /scale added.
    const night = { min: 0, max: 2, schedules: [{ cron: '* * * * *', min: 0, max: 0 }] };
    await updateApp(deps, 'acme', 'web', { scaling: night });
    await noneComing(
      'app "web" is scaled to zero by its schedule "* * * * *" until a schedule with a min fires',
    );

    await updateApp(deps, 'acme', 'web', { scaling: null });
    await scaleApp(deps, 'acme', 'web', 1);
    const app = await getAppRecord(deps, 'acme', 'web');
    // What a reconcile pass writes once the tenant is suspended.
    await deps.store.writeRollout({
      app: { record: { ...app, status: 'suspended' }, read: app },
    });
    await noneComing('app "web" does not run while tenant "acme" is suspended');

    // What a reconcile pass writes once the first deployment failed: nothing runs, and nothing will until a deploy.
    const suspended = await getAppRecord(deps, 'acme', 'web');
    await deps.store.writeRollout({
      app: { record: { ...suspended, status: 'failed' }, read: suspended },
    });
    await noneComing(
      'app "web" failed to deploy and nothing of it runs; GET /v1/apps/web/events says why, and a deployment of a fixed revision starts it',
    );
  });
});

describe('the local ingress when it cannot tell why no replica is ready', () => {
  it('answers 503 with Retry-After while the table is unavailable, 500 naming nothing for anything else, and logs both as the platform logs', async () => {
    const deps = await fakeCoreDeps();
    const failing = (error: Error) =>
      createIngress(new RoutingTable(), failingCalls(deps.store, 'getApp', error)).request('/', {
        headers: { host: 'web.acme.localhost:8000' },
      });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const unavailable = await failing(new UnavailableError('the database is unavailable; retry shortly'));
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('retry-after')).toBe('1');
      expect(unavailable.headers.get('content-type')).toBe('application/problem+json');
      expect(await unavailable.json()).toMatchObject({
        code: 'unavailable',
        detail: 'the database is unavailable; retry shortly',
      });

      const broken = await failing(new Error('ECONNREFUSED 127.0.0.1:8000'));
      expect(broken.status).toBe(500);
      expect(await broken.json()).toMatchObject({
        code: 'internal',
        detail: 'an internal error occurred; it has been logged',
      });
      expect(logged.mock.calls.map(([line]) => String(line).split(' {')[0])).toEqual([
        '[berth] ingress answered unavailable',
        '[berth] ingress failed',
      ]);
      expect(String(logged.mock.calls[1]?.[0])).toContain("host: 'web.acme.localhost:8000'");
      expect(String(logged.mock.calls[1]?.[0])).toContain('ECONNREFUSED 127.0.0.1:8000');
    } finally {
      logged.mockRestore();
    }
  });
});

describe('the local ingress while the routing table is rebuilt after a start', () => {
  it('holds a request for an app that should run until its replica is routed, and answers at once for one that will not', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    await createApp(deps, 'acme', { name: 'web', ...spec });
    await createApp(deps, 'acme', { name: 'idle', ...spec, replicas: 0 });
    const replica = createServer((_req, res) => res.end('served'));
    replica.listen(0, '127.0.0.1');
    await once(replica, 'listening');
    try {
      const routes = new RoutingTable();
      routes.rebuilding(60_000);
      const ingress = createIngress(routes, deps.store);
      const get = (host: string) => ingress.request('/', { headers: { host } });

      let answered = false;
      const held = Promise.resolve(get('web.acme.localhost')).finally(() => {
        answered = true;
      });
      const idle = await get('idle.acme.localhost');
      expect(idle.status).toBe(503);
      expect(idle.headers.get('retry-after')).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBe(false);

      await routes.route('acme', 'web', [
        { host: '127.0.0.1', port: (replica.address() as AddressInfo).port },
      ]);
      const res = await held;
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('served');
    } finally {
      replica.close();
    }
  });
});

/** A replica that answers with `handler`, and the ingress before it, served by Node, on free ports. */
async function ingressBefore(handler: Parameters<typeof createServer>[1]) {
  const replica = createServer(handler);
  const routes = new RoutingTable();
  await routes.route('acme', 'web', [await listeningAt(replica)]);
  const ingress = serve({
    fetch: createIngress(routes, (await fakeCoreDeps()).store).fetch,
    hostname: '127.0.0.1',
    port: 0,
  });
  await once(ingress, 'listening');
  const close = () => {
    ingress.close();
    replica.close();
  };
  return { port: (ingress.address() as AddressInfo).port, close };
}

describe('the local ingress passing a request to a replica', () => {
  /** A replica that answers what it was sent, and the ingress before it on a free port. */
  async function echoed() {
    const { port, close } = await ingressBefore((req, res) =>
      res.end(JSON.stringify({ url: req.url, headers: req.headers })),
    );
    /** What the replica was sent of a GET for `path` with the Host `host:<port>`, and `headers`. */
    const send = async (path: string, host: string, headers: Record<string, string> = {}) =>
      JSON.parse((await ingressGet(port, host, path, headers)).body) as {
        url: string;
        headers: Record<string, string>;
      };
    return { port, send, close };
  }

  it("tells the replica the request's way in, as the load balancer does: its own Host, X-Forwarded-For, -Host, -Proto, -Port", async () => {
    const { port, send, close } = await echoed();
    try {
      const seen = await send('/hello?x=1', 'web.acme.localhost', {
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-port': '1',
      });
      expect(seen.headers).toMatchObject({
        host: `web.acme.localhost:${port}`,
        'x-forwarded-for': '10.0.0.1, 127.0.0.1',
        'x-forwarded-host': `web.acme.localhost:${port}`,
        'x-forwarded-proto': 'http',
        'x-forwarded-port': String(port),
      });
    } finally {
      close();
    }
  });

  it('passes on only the end-to-end fields each way, as a load balancer does: not those of one connection', async () => {
    // RFC 9110 §7.6.1: these, and those a Connection field names, belong to the connection they came on.
    const oneHop = {
      connection: 'x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=1',
      'proxy-connection': 'keep-alive',
      'proxy-authenticate': 'Basic realm="proxy"',
      'proxy-authorization': 'Basic eDp5',
      te: 'trailers',
      trailer: 'x-checksum',
    };
    const { port, close } = await ingressBefore((req, res) => {
      res.writeHead(200, { ...oneHop, 'x-kept': '1' });
      res.end(JSON.stringify(req.headers));
    });
    try {
      // Chunked, as a message announcing trailers is.
      const answer = await ingressRequest(port, 'web.acme.localhost', {
        headers: { ...oneHop, 'x-kept': '1', 'transfer-encoding': 'chunked' },
      });
      const seen = JSON.parse(answer.body) as Record<string, string>;
      for (const [side, headers] of [
        ['the replica', seen],
        ['the client', answer.headers],
      ] as const) {
        expect({ side, kept: headers['x-kept'] }).toEqual({ side, kept: '1' });
        for (const [name, value] of Object.entries(oneHop)) {
          expect({ side, name, passed: headers[name] === value }).toEqual({ side, name, passed: false });
        }
      }
    } finally {
      close();
    }
  });

  it('takes the host of a request target in absolute form over its Host header (RFC 9112 §3.2.2) and sends the origin form', async () => {
    const { port, send, close } = await echoed();
    try {
      const seen = await send(`http://web.acme.localhost:${port}/hello?x=1`, 'other.acme.localhost');
      expect(seen.url).toBe('/hello?x=1');
      expect(seen.headers).toMatchObject({
        host: `web.acme.localhost:${port}`,
        'x-forwarded-host': `web.acme.localhost:${port}`,
      });
      const elsewhere = send(`http://other.acme.localhost:${port}/`, 'web.acme.localhost');
      await expect(elsewhere).resolves.toMatchObject({ code: 'app.notFound' });
    } finally {
      close();
    }
  });
});

describe("the local ingress passing a request's body to a replica", () => {
  it('sends it as it came, with its length or in chunks, and the replica answers what it read', async () => {
    const { port, close } = await ingressBefore(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString('utf8') }));
    });
    try {
      const body = JSON.stringify({ order: 42, note: 'é'.repeat(40_000) });
      const sent = async (headers: Record<string, string>) => {
        const { status, body: answer } = await ingressRequest(port, 'web.acme.localhost', {
          method: 'POST',
          headers,
          body,
        });
        return { status, body: answer };
      };
      const read = { status: 200, body: JSON.stringify({ method: 'POST', body }) };
      expect(await sent({ 'content-length': String(Buffer.byteLength(body)) })).toEqual(read);
      expect(await sent({ 'transfer-encoding': 'chunked' })).toEqual(read);
    } finally {
      close();
    }
  });
});

describe('the local ingress passing an answer on', () => {
  /** The ingress before a replica that answers with `handler`, and a GET of it that reads the answer's bytes. */
  async function answering(handler: Parameters<typeof createServer>[1]) {
    const { port, close } = await ingressBefore(handler);
    const get = (headers: Record<string, string>) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const host = `web.acme.localhost:${port}`;
        request({ host: '127.0.0.1', port, path: '/', headers: { ...headers, host } }, async (res) => {
          const chunks: Buffer[] = [];
          for await (const chunk of res) chunks.push(chunk as Buffer);
          resolve({ headers: res.headers, body: Buffer.concat(chunks) });
        })
          .on('error', reject)
          .end();
      });
    return { get, close };
  }

  it("keeps the client's connection for its next request, as the load balancer does", async () => {
    const { port, close } = await ingressBefore((_req, res) => res.end('hi'));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    /** Whether a GET went on a connection kept from an earlier one. */
    const reused = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/', agent, headers: { host: `web.acme.localhost:${port}` } },
          (res) => res.resume().on('end', () => resolve(req.reusedSocket)),
        ).on('error', reject);
        req.end();
      });
    try {
      expect([await reused(), await reused(), await reused()]).toEqual([false, true, true]);
    } finally {
      agent.destroy();
      close();
    }
  });

  it('passes Accept-Encoding on, and an encoded answer as it came, as the load balancer does', async () => {
    const asked: (string | undefined)[] = [];
    const { get, close } = await answering((req, res) => {
      asked.push(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(gzipSync('hello, compressed'));
    });
    try {
      const answer = await get({ 'accept-encoding': 'gzip, br' });
      expect(asked).toEqual(['gzip, br']);
      expect(answer.headers).toMatchObject({ 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      expect(gunzipSync(answer.body).toString()).toBe('hello, compressed');
    } finally {
      close();
    }
  });

  it('adds no Content-Type to an answer that has none, which a browser then sniffs', async () => {
    const { get, close } = await answering((_req, res) => res.end('<h1>hi</h1>'));
    try {
      const answer = await get({});
      expect(answer.headers['content-type']).toBeUndefined();
      expect(answer.body.toString()).toBe('<h1>hi</h1>');
    } finally {
      close();
    }
  });
});

describe('the local ingress given an answer that is not HTTP', () => {
  it.each([
    [
      'a header line ended by a bare LF',
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\n\nhi',
      'Missing expected CR after header value',
    ],
    ['another protocol', 'SSH-2.0-OpenSSH_9.2\r\n', 'Expected HTTP/, RTSP/ or ICE/'],
  ])('answers 502 saying what was wrong with %s, without trying again', async (_what, answer, reason) => {
    let connections = 0;
    const replica = createNetServer((socket) => {
      connections++;
      socket.once('data', () => socket.end(answer));
    });
    const endpoint = await listeningAt(replica);
    const routes = new RoutingTable();
    await routes.route('acme', 'web', [endpoint, endpoint]);
    try {
      const res = await createIngress(routes, (await fakeCoreDeps()).store).request('/', {
        headers: { host: 'web.acme.localhost:8000' },
      });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        code: 'app.badResponse',
        title: 'Bad Gateway',
        detail: `app "web" answered with malformed HTTP: ${reason}`,
      });
      expect(connections).toBe(1);
    } finally {
      replica.close();
    }
  });
});

describe('the local ingress and a replica that goes silent', () => {
  /** An ingress giving a replica 200 ms of silence, in front of two routes to `replica`. */
  async function ingressTo(replica: ReturnType<typeof createServer> | ReturnType<typeof createNetServer>) {
    const endpoint = await listeningAt(replica);
    const routes = new RoutingTable();
    await routes.route('acme', 'web', [endpoint, endpoint]);
    const ingress = createIngress(routes, (await fakeCoreDeps()).store, 200);
    return (path = '/') => ingress.request(path, { headers: { host: 'web.acme.localhost:8000' } });
  }

  it('answers 504 when the replica reached sends nothing, as the load balancer does, without trying another', async () => {
    let connections = 0;
    const replica = createNetServer((socket) => {
      connections++;
      socket.resume(); // reads the request, never answers
    });
    const get = await ingressTo(replica);
    try {
      const res = await get();
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({
        code: 'app.timeout',
        title: 'Gateway Timeout',
        detail: 'app "web" did not answer within 0.2 s',
      });
      expect(connections).toBe(1);
    } finally {
      replica.close();
    }
  });

  it('passes on an answer that keeps coming, however long it takes in all, and cuts one that stops part-way', async () => {
    const replica = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Six chunks 100 ms apart; or the first alone, the answer left open.
      const stops = req.url === '/?stops';
      let sent = 0;
      const next = setInterval(() => {
        res.write(`${sent++}`);
        if (stops || sent === 6) clearInterval(next);
        if (!stops && sent === 6) res.end();
      }, 100);
    });
    const get = await ingressTo(replica);
    try {
      // 600 ms in all, never 200 ms without a chunk.
      const whole = await get();
      expect(whole.status).toBe(200);
      expect(await whole.text()).toBe('012345');
      const cut = await get('/?stops');
      expect(cut.status).toBe(200);
      await expect(cut.text()).rejects.toThrow('aborted');
    } finally {
      replica.closeAllConnections();
      replica.close();
    }
  });
});

describe('the local ingress and a replica that breaks off its answer', () => {
  it.each([
    ['resets its connection', 'content-length', 'reset'],
    ['resets its connection', 'chunked', 'reset'],
    ['goes silent past the idle timeout', 'chunked', 'silent'],
  ])('cuts the client off, logging nothing, when the replica %s midway (%s)', async (_what, framing, how) => {
    const replica = createServer((_req, res) => {
      res.writeHead(200, framing === 'content-length' ? { 'content-length': '100' } : {});
      res.write('part of it');
      if (how === 'reset') setTimeout(() => res.socket?.resetAndDestroy(), 50);
    });
    const routes = new RoutingTable();
    await routes.route('acme', 'web', [await listeningAt(replica)]);
    const ingress = serveLocally(createIngress(routes, (await fakeCoreDeps()).store, 200).fetch, 0);
    await once(ingress, 'listening');
    const logged = ['error', 'warn', 'info', 'log'].map((level) =>
      vi.spyOn(console, level as 'error').mockImplementation(() => {}),
    );
    try {
      const answer = await ingressGet((ingress.address() as AddressInfo).port, 'web.acme.localhost');
      expect(answer).toEqual({ status: 200, body: 'part of it', cut: 'aborted' });
      // What @hono/node-server would write of the failure comes on the next turns, if at all.
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const spy of logged) expect(spy).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
      ingress.close();
      replica.closeAllConnections();
      replica.close();
    }
  });
});

describe('the local ingress and a replica gone', () => {
  it('tries the next ready replica, three at most, for a request that may be retried, not a POST; 503 when none answers', async () => {
    const live = createServer((_req, res) => res.end('live'));
    const liveEndpoint = await listeningAt(live);
    // A replica gone between two requests: its port refuses the connection.
    const gone = createNetServer();
    const goneEndpoint = await listeningAt(gone);
    gone.close();
    await once(gone, 'close');
    const routes = new RoutingTable();
    await routes.route('acme', 'web', [goneEndpoint, liveEndpoint]);
    const ingress = createIngress(routes, (await fakeCoreDeps()).store, 200);
    const send = (method: string) =>
      ingress.request('/', { method, headers: { host: 'web.acme.localhost:8000' } });
    try {
      // Whichever replica the turn starts at.
      for (let turn = 0; turn < 2; turn++) {
        const res = await send('GET');
        expect([res.status, await res.text()]).toEqual([200, 'live']);
      }
      // A POST is not sent twice: the one that reached the replica gone is answered so, the next one reaches the other.
      const posted = [await send('POST'), await send('POST')].map((res) => res.status);
      expect(posted.sort()).toEqual([200, 503]);
      await routes.route('acme', 'web', [goneEndpoint]);
      for (const method of ['GET', 'POST']) {
        const res = await send(method);
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(await res.json()).toMatchObject({
          code: 'unavailable',
          detail: 'app "web" did not answer; retry shortly',
        });
      }
      // Five replicas that each cut the connection at once: three are tried, not all five.
      let connections = 0;
      const cutting = createNetServer((socket) => {
        connections++;
        socket.destroy();
      });
      try {
        const endpoint = await listeningAt(cutting);
        await routes.route(
          'acme',
          'web',
          Array.from({ length: 5 }, () => endpoint),
        );
        expect((await send('GET')).status).toBe(503);
        expect(connections).toBe(3);
      } finally {
        cutting.close();
      }
    } finally {
      live.close();
    }
  });
});
