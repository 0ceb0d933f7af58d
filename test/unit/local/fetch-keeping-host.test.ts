import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CONTINUE_WAIT_MS, fetchKeepingHost } from '../../../functions/local/fetch-keeping-host.ts';
import { untilNoConnections } from '../../support/raw-http.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** `server` on a free port, closed after the test; resolves with its URL. */
async function listening(server: Server) {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A replica answering with `answer`; resolves with its URL. */
const replica = (answer: Parameters<typeof createServer>[1]) => listening(createServer(answer));

/** A replica that speaks HTTP by hand, byte by byte, on each connection; resolves with its URL. */
const rawReplica = (onConnection: (socket: Socket) => void) => listening(createTcpServer(onConnection));

/** Runs `fn` on timers that run out only when the test advances them, and real ones again after. */
async function onTimersRunOutOnlyWhenTold(fn: () => Promise<void>) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await fn();
  } finally {
    vi.useRealTimers();
  }
}

const bodyOf = async (req: IncomingMessage) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
};

describe('the ingress proxy’s fetch', () => {
  it('sends the request as it is, its own Host included, and answers what the replica answered', async () => {
    const base = await replica(async (req, res) => {
      const seen = { method: req.method, url: req.url, host: req.headers.host, body: await bodyOf(req) };
      res.writeHead(201, 'Made', [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['content-type', 'application/json'],
      ]);
      res.end(JSON.stringify(seen));
    });
    const res = await fetchKeepingHost(
      new Request(`${base}/items?x=1`, {
        method: 'POST',
        headers: { host: 'web.acme.localhost:8000', 'content-type': 'application/json' },
        body: '{"name":"a"}',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Made');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({
      method: 'POST',
      url: '/items?x=1',
      host: 'web.acme.localhost:8000',
      body: '{"name":"a"}',
    });
  });

  it('answers HEAD, 204 and 304 without a body, and uses the connection again', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/head' ? 200 : Number(req.url?.slice(1)), { 'content-length': '5' });
      res.end(req.method === 'HEAD' ? undefined : '');
    });
    let connections = 0;
    server.on('connection', () => connections++);
    const base = await listening(server);
    for (const [method, path, status] of [
      ['HEAD', '/head', 200],
      ['GET', '/204', 204],
      ['GET', '/304', 304],
    ] as const) {
      const res = await fetchKeepingHost(new Request(`${base}${path}`, { method }));
      expect(res.status).toBe(status);
      expect(res.body).toBeNull();
    }
    // An answer without a body is read to its end all the same: its connection goes back to be used again.
    expect(connections).toBe(1);
  });

  it('rejects when the replica cannot be reached, as fetch does', async () => {
    const base = await replica((_req, res) => res.end());
    servers.splice(0).forEach((server) => {
      server.close();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetchKeepingHost(new Request(`${base}/`))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("ends the replica's request when the client's is aborted", async () => {
    const closed = Promise.withResolvers<void>();
    const base = await replica((req) => {
      req.on('close', () => closed.resolve());
    });
    const client = new AbortController();
    const pending = fetchKeepingHost(new Request(`${base}/slow`, { signal: client.signal }));
    const rejected = expect(pending).rejects.toThrow(/aborted/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.abort();
    await closed.promise;
    await rejected;
  });

  it("ends the replica's request when the client's body fails midway (the client gone), and the process goes on", async () => {
    const replicaSaw = Promise.withResolvers<{ complete: boolean }>();
    const base = await replica((req) => {
      req.resume();
      req.on('close', () => replicaSaw.resolve({ complete: req.complete }));
    });
    const body = new ReadableStream({
      start(stream) {
        stream.enqueue(new TextEncoder().encode('hel'));
        setTimeout(() => stream.error(new Error('aborted')), 50);
      },
    });
    const pending = fetchKeepingHost(
      new Request(`${base}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit),
    );
    const rejected = expect(pending).rejects.toThrow('socket hang up');
    expect(await replicaSaw.promise).toEqual({ complete: false });
    await rejected;
  });

  describe('a request that expects 100 Continue', () => {
    /** A body that never ends, as a large upload still on its way: it counts what was read of it. */
    const endlessBody = () => {
      const sent = { bytes: 0 };
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent.bytes += 64 * 1024;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      return { sent, stream };
    };
    const upload = (base: string, body: ReadableStream<Uint8Array>) =>
      fetchKeepingHost(
        new Request(`${base}/upload`, {
          method: 'POST',
          headers: { expect: '100-continue', 'content-length': String(1 << 30) },
          body,
          duplex: 'half',
        } as RequestInit),
      );

    /** A PUT of `hello` that expects 100 Continue. */
    const putHello = (base: string) =>
      fetchKeepingHost(
        new Request(`${base}/`, {
          method: 'PUT',
          headers: { expect: '100-continue', 'content-length': '5' },
          body: 'hello',
        }),
      );

    it('gets the answer of a replica that refuses it at its headers and closes, and sends none of the body', async () => {
      // As busybox httpd does: reads the headers, answers, closes; bytes of a body would be unread.
      let bodyBytes = 0;
      const base = await rawReplica((socket) => {
        let seen = '';
        socket.on('data', (chunk) => {
          if (seen.includes('\r\n\r\n')) {
            bodyBytes += chunk.length;
            return;
          }
          seen += chunk.toString('latin1');
          if (!seen.includes('\r\n\r\n')) return;
          bodyBytes += seen.length - seen.indexOf('\r\n\r\n') - 4;
          socket.end(
            'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big\n',
          );
        });
      });
      const { sent, stream } = endlessBody();
      await onTimersRunOutOnlyWhenTold(async () => {
        const res = await upload(base, stream);
        expect(res.status).toBe(413);
        expect(await res.text()).toBe('too big\n');
        // Answered: the wait for 100 Continue is over, and running it out sends nothing.
        vi.advanceTimersByTime(CONTINUE_WAIT_MS);
        await new Promise((resolve) => setImmediate(resolve));
      });
      expect(bodyBytes).toBe(0);
      expect(sent.bytes).toBeLessThanOrEqual(64 * 1024);
    });

    it('lets go of the connection of a replica that answered before the body, which is never sent', async () => {
      // A replica that refuses at the headers and keeps the connection: it would wait there for the body.
      const server = createTcpServer((socket) =>
        socket.once('data', () =>
          socket.write('HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n'),
        ),
      );
      const base = await listening(server);
      const res = await putHello(base);
      expect([res.status, await res.text()]).toEqual([417, '']);
      await untilNoConnections(server, 2000);
    });

    it('sends the body once the replica asks for it, or when it has not answered within CONTINUE_WAIT_MS', async () => {
      const base = await replica(async (req, res) => {
        res.end(`${(await bodyOf(req)).length}`);
      });
      // The wait's timer never runs out here: the headers go at once, and the body on the replica's asking.
      await onTimersRunOutOnlyWhenTold(async () => {
        const asked = await fetchKeepingHost(
          new Request(`${base}/upload`, {
            method: 'POST',
            headers: { expect: '100-continue' },
            body: 'x'.repeat(100),
          }),
        );
        expect(await asked.text()).toBe('100');
      });
      // A replica that ignores the expectation: answers only once it has read the body.
      const ignoring = await rawReplica((socket) => {
        let seen = '';
        socket.on('data', (chunk) => {
          seen += chunk.toString('latin1');
          if (seen.endsWith('\r\n\r\nhello')) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        });
      });
      const res = await putHello(ignoring);
      expect(await res.text()).toBe('ok');
    });

    it('sends the body once when the replica asks for it after CONTINUE_WAIT_MS, the body already on its way', async () => {
      // Asks only once the body has come (sent when the wait ran out), then answers with the bytes it got.
      const late = await rawReplica((socket) => {
        let seen = '';
        socket.on('data', (chunk) => {
          seen += chunk.toString('latin1');
          if (!seen.endsWith('\r\n\r\nhello')) return;
          socket.write('HTTP/1.1 100 Continue\r\n\r\n');
          setTimeout(() => {
            const bytes = String(seen.length - seen.indexOf('\r\n\r\n') - 4);
            socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${bytes.length}\r\n\r\n${bytes}`);
          }, 100);
        });
      });
      const res = await putHello(late);
      expect(await res.text()).toBe('5');
    });
  });
});
