import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, MAX_BODY_BYTES } from '../../../functions/http/api.ts';
import { fakeApiDeps } from '../../fakes/core-deps.ts';
import { rawExchange } from '../../support/raw-http.ts';

/** Far over the limit, and over what Node and the web stream buffer for a body nobody reads. */
const BIG = MAX_BODY_BYTES * 16;

describe('the API on Node refusing a body over the limit', () => {
  let server: ReturnType<typeof serve>;
  let base: string;
  let port: number;
  beforeAll(async () => {
    const { deps } = await fakeApiDeps();
    server = serve({ fetch: createApi(deps).fetch, hostname: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** Sends `body` to POST /v1/apps and then GET /healthz, ten times: every answer must come, on connections reused. */
  async function refuseThenRead(body: () => RequestInit['body']) {
    for (let i = 0; i < 10; i++) {
      const refused = await fetch(`${base}/v1/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(),
        duplex: 'half',
      } as RequestInit);
      expect(refused.status).toBe(413);
      expect(await refused.json()).toMatchObject({ code: 'payload.tooLarge' });
      const next = await fetch(`${base}/healthz`);
      expect(next.status).toBe(200);
      await next.text();
    }
  }

  it('answers 413 to a declared length over the limit and keeps the connection usable', async () => {
    await refuseThenRead(() => Buffer.alloc(BIG, ' '));
  });

  it('answers 413 to a body sent without a length once it passes the limit, and keeps the connection usable', async () => {
    await refuseThenRead(
      () =>
        new ReadableStream({
          start(stream) {
            for (let sent = 0; sent < BIG; sent += MAX_BODY_BYTES)
              stream.enqueue(Buffer.alloc(MAX_BODY_BYTES, ' '));
            stream.close();
          },
        }),
    );
  });

  it('answers a request sent after the refused body on the same connection', async () => {
    const answers = await rawExchange(
      port,
      `POST /v1/apps HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${BIG}\r\n\r\n` +
        ' '.repeat(BIG) +
        'GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    );
    expect(answers.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
  });
});

describe('a refused body sent without a length', () => {
  it('is read and thrown away behind the answer up to 1 MiB more, then cancelled', async () => {
    const { deps } = await fakeApiDeps();
    let pulled = 0;
    const cancelled = Promise.withResolvers<void>();
    const endless = new ReadableStream<Uint8Array>({
      pull(stream) {
        pulled += 16 * 1024;
        stream.enqueue(new Uint8Array(16 * 1024));
      },
      cancel: () => cancelled.resolve(),
    });
    const res = await createApi(deps).request('/v1/apps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    await cancelled.promise;
    expect(pulled).toBeGreaterThan(MAX_BODY_BYTES + 1024 * 1024);
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 1024 * 1024 + 64 * 1024);
  });
});
