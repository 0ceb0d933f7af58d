import { EventEmitter } from 'node:events';
import { connect, type Server } from 'node:net';
import { expect, vi } from 'vitest';

/**
 * A bare connection to 127.0.0.1:`port`: `received` is what came back so far, `arrived` waits until it holds `text`,
 * and `closed` resolves with all that came back once the connection closes (rejects on an error, or 10 s without a
 * byte).
 */
export function bareConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  const more = new EventEmitter();
  let received = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    received += chunk;
    more.emit('change');
  });
  socket.setTimeout(10_000, () => socket.destroy(new Error(`nothing more in 10 s; got ${received}`)));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => {
      more.emit('change');
      resolve(received);
    });
  });
  // Awaited by the caller, unless it gave up first (`arrived` threw): then its error is the one to tell.
  closed.catch(() => {});
  return {
    socket,
    received: () => received,
    async arrived(text: string) {
      while (!received.includes(text)) {
        if (socket.destroyed) throw new Error(`closed before ${JSON.stringify(text)} came; got ${received}`);
        await new Promise((resolve) => more.once('change', resolve));
      }
    },
    closed,
  };
}

/** Sends `request` as it is (bytes a client library would refuse to send) and resolves with all that came back. */
export function rawExchange(port: number, request: string): Promise<string> {
  const connection = bareConnection(port);
  connection.socket.end(request);
  return connection.closed;
}

/**
 * Sends each of `parts` on one bare connection, a part once what came back holds the text it waits for (`after`),
 * and resolves with all that came back when the server closes the connection.
 */
export async function converse(port: number, parts: { after?: string; send: string }[]): Promise<string> {
  const connection = bareConnection(port);
  for (const { after, send } of parts) {
    if (after !== undefined) await connection.arrived(after);
    connection.socket.write(send);
  }
  return connection.closed;
}

/**
 * An upgrade request (`Upgrade: echo`) through the local ingress on a bare connection: once answered, sends
 * `message`, and resolves with all that came back when `message` has come back after the answer.
 */
export async function upgradeThroughIngress(port: number, host: string, message: string): Promise<string> {
  const connection = bareConnection(port);
  connection.socket.write(
    `GET /socket HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`,
  );
  await connection.arrived('\r\n\r\n');
  connection.socket.write(message);
  await connection.arrived(`\r\n\r\n${message}`);
  connection.socket.destroy();
  return connection.closed;
}

/** Resolves once `server` holds no connection; fails when it still holds one after `timeoutMs`. */
export const untilNoConnections = (server: Server, timeoutMs: number) =>
  vi.waitFor(
    async () =>
      expect(await new Promise((resolve) => server.getConnections((_err, n) => resolve(n)))).toBe(0),
    { timeout: timeoutMs, interval: 100 },
  );
