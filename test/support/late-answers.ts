import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** An answer of a service a client under test calls. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers each request as `upstream` does, forwarded there as it came. */
export const forwardedTo =
  (upstream: string) =>
  (req: IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const out = request(
        new URL(req.url ?? '/', upstream),
        { method: req.method, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

/**
 * A service that answers as `answer` says, held back `lateMs` once `late` sets it (for every request, or only those of
 * one AWS operation): what a client still waits for when its caller returns shows in `pending`. Each request's
 * `x-amz-target` (its operation) is kept.
 */
export async function answeringLate(answer: (req: IncomingMessage, body: Buffer) => Promise<Answer>) {
  let lateMs = 0;
  let lateOperation: string | undefined;
  let pending = 0;
  const operations: string[] = [];
  const server = createServer(async (req, res) => {
    pending += 1;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const operation = String(req.headers['x-amz-target']);
      operations.push(operation);
      if (lateMs > 0 && (lateOperation === undefined || operation === lateOperation)) await sleep(lateMs);
      const { status, headers, body } = await answer(req, Buffer.concat(chunks));
      res.writeHead(status, headers).end(body);
    } catch (err) {
      res.writeHead(502).end(String(err));
    } finally {
      pending -= 1;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    operations,
    late: (ms: number, operation?: string) => {
      lateMs = ms;
      lateOperation = operation;
    },
    pending: () => pending,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
