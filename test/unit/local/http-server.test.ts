import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { problemOf } from '../../../functions/http/problem.ts';
import {
  answerUnreadable,
  problemAnswer,
  refusalOf,
  serveIngress,
  serveLocally,
} from '../../../functions/local/http-server.ts';
import { bareConnection, converse } from '../../support/raw-http.ts';

describe("the local servers' answer to what @hono/node-server cannot make a request of", () => {
  it('is 400 problem+json saying what could not be read', async () => {
    const res = answerUnreadable(new RequestError('Backslash in request path'));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      code: 'validation.failed',
      detail: 'the request line or its Host header cannot be read: Backslash in request path',
    });
  });

  it('is a logged 500 without internals for any other error', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = answerUnreadable(new Error('secret internals'));
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ code: 'internal' });
      expect(body).not.toContain('secret internals');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('secret internals'));
    } finally {
      logged.mockRestore();
    }
  });
});

describe("the ingress's server against the API's", () => {
  const ok = () => new Response('ok');
  let ingress: Server;
  let api: Server;
  const portOf = (server: Server) => (server.address() as AddressInfo).port;
  beforeAll(async () => {
    [ingress, api] = [serveIngress(ok, 0, 60_000), serveLocally(ok, 0)];
    await Promise.all([once(ingress, 'listening'), once(api, 'listening')]);
  });
  afterAll(() => {
    ingress.close();
    api.close();
  });

  it("takes an ALB's 64 KiB of headers and no time limit for a request to arrive whole, where the API keeps Node's", async () => {
    // 40 KB of cookies, as an app's sessions may hold.
    const cookies = `GET / HTTP/1.1\r\nHost: x\r\nCookie: a=${'c'.repeat(40_000)}\r\nConnection: close\r\n\r\n`;
    expect(await converse(portOf(ingress), [{ send: cookies }])).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*ok$/);
    const refused = await converse(portOf(api), [{ send: cookies }]);
    expect(refused).toMatch(/^HTTP\/1\.1 431 /);
    expect(refused).toContain('at most 16384 bytes together');
    // Node's default would cut an upload through the ingress at 300 s; an ALB has no such limit.
    expect([ingress.requestTimeout, api.requestTimeout]).toEqual([0, 300_000]);
  });

  it("keeps a client's idle connection for the apps' idle timeout, as an ALB does, where the API's closes it after Node's 5 s", async () => {
    const [toIngress, toApi] = [bareConnection(portOf(ingress)), bareConnection(portOf(api))];
    for (const connection of [toIngress, toApi]) connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await Promise.all([toIngress.arrived('ok'), toApi.arrived('ok')]);
    // Idle until the API's server has closed its connection (Node's 5 s and its margin), then the next request on
    // the ingress's.
    expect(await toApi.closed).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*ok$/);
    toIngress.socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await toIngress.closed).match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});

describe("the local servers' answer to what Node's HTTP server refuses", () => {
  it('is the status Node answers, with a problem saying why', () => {
    const refused = (code: string, reason?: string) =>
      refusalOf(Object.assign(new Error(`Parse Error: ${reason}`), { code, reason }));
    expect(refused('HPE_HEADER_OVERFLOW', 'Header overflow')).toMatchObject({
      status: 431,
      code: 'headers.tooLarge',
      detail: 'the request line and headers may be at most 16384 bytes together: a long URL counts',
    });
    expect(refused('HPE_CHUNK_EXTENSIONS_OVERFLOW')).toMatchObject({ status: 413, code: 'payload.tooLarge' });
    expect(refused('ERR_HTTP_REQUEST_TIMEOUT')).toMatchObject({ status: 408, code: 'request.timeout' });
    expect(refused('HPE_INVALID_HEADER_TOKEN', 'Invalid header token')).toMatchObject({
      status: 400,
      code: 'validation.failed',
      detail: 'the request cannot be read: Invalid header token',
    });
  });

  it('is framed whole for a bare connection, which closes after it', () => {
    const problem = problemOf('unavailable', 'app "café" has no ready replica right now; retry shortly', '/');
    const body = JSON.stringify(problem);
    // Its length in bytes, not characters.
    expect(Buffer.byteLength(body)).toBe(body.length + 1);
    expect(problemAnswer(problem, { 'retry-after': '1' })).toBe(
      [
        'HTTP/1.1 503 Service Unavailable',
        'Content-Type: application/problem+json',
        `Content-Length: ${body.length + 1}`,
        'Connection: close',
        'retry-after: 1',
        '',
        body,
      ].join('\r\n'),
    );
  });

  describe('on a connection', () => {
    let server: Server;
    let port: number;
    /** Answers POST /stream with a body it sends a part of at once and never ends; anything else with "ok". */
    const streaming = (req: Request) =>
      new Response(
        new URL(req.url).pathname === '/stream'
          ? new ReadableStream({ start: (body) => body.enqueue(new TextEncoder().encode('part')) })
          : 'ok',
      );
    beforeAll(async () => {
      server = serveLocally(streaming, 0);
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });

    it('answers a request Node cannot read after one answered on the same connection', async () => {
      const received = await converse(port, [
        { send: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' },
        {
          after: 'ok',
          send: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
        },
      ]);
      expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
      expect(received).toContain('"detail":"the request cannot be read: Transfer-Encoding can\'t be present');
    });

    it('adds nothing to an answer already begun when the rest of its request cannot be read, and closes', async () => {
      const received = await converse(port, [
        { send: 'POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' },
        { after: 'part', send: 'zz\r\n' },
      ]);
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(received).not.toContain('HTTP/1.1 400');
      expect(received).not.toContain('problem');
    });
  });
});
