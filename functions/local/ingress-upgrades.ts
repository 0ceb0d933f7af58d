import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Store } from '../core/ports.ts';
import { problemOf } from '../http/problem.ts';
import { REPLICA_IDLE_MS } from './fetch-keeping-host.ts';
import { problemAnswer } from './http-server.ts';
import {
  appOfHost,
  forwardedHeaders,
  type IngressProblem,
  ingressFailure,
  NO_SUCH_HOST,
  reachReplica,
  requestTarget,
} from './ingress.ts';
import type { Endpoint, RoutingTable } from './routing-table.ts';

/** How long a replica may take to accept the connection before the next ready one is tried. */
const CONNECT_TIMEOUT_MS = 5000;

/** How long the client of a refused upgrade has to read the answer and close before the connection is closed. */
const REFUSED_LINGER_MS = 5000;

/**
 * Connection upgrades (WebSocket) through the local ingress, as the load balancer passes them in AWS mode: the
 * request goes to one ready replica as it came (with the forwarding headers of every proxied request), and the
 * two connections are joined until either side closes, or nothing has passed either way for `idleMs` (the load
 * balancer's idle timeout, which holds for WebSocket too: an app keeps a quiet one open with pings). A replica that
 * cannot be reached is passed over for the next ready one; without any, the ingress answers its problem+json, as for
 * any request, and closes the connection. `close()` ends the tunnels still open, which the server's own `close` does
 * not count as its connections.
 */
export function tunnelUpgrades(server: Server, routes: RoutingTable, store: Store, idleMs = REPLICA_IDLE_MS) {
  const open = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    open.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => open.delete(client));
    tunnel(req, client, head, routes, store, idleMs).catch(() => client.destroy());
  });
  return {
    close() {
      for (const client of open) client.destroy();
    },
  };
}

async function tunnel(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  routes: RoutingTable,
  store: Store,
  idleMs: number,
): Promise<void> {
  const { host, path } = requestTarget(req.url ?? '/', req.headers.host);
  const target = appOfHost(host);
  if (!host || !target) return refuse(client, path, NO_SUCH_HOST);
  const result = await reachReplica(routes, store, target, true, connected).catch((err: unknown) => ({
    problem: ingressFailure(err, { host, method: req.method, path }),
  }));
  if ('problem' in result) return refuse(client, path, result.problem);
  // The client may have gone while the replica was reached: reset the connection, or closed its side, which leaves
  // the ingress's side open; joined, the tunnel would hold the replica's connection, to no one, for the idle timeout.
  if (client.destroyed || client.readableEnded) {
    result.reached.destroy();
    client.destroy();
  } else join(client, result.reached, requestHead(req, host, path), head, idleMs);
}

/** A connection to `endpoint`, or undefined when it cannot be made within CONNECT_TIMEOUT_MS. */
function connected(endpoint: Endpoint): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port: endpoint.port, host: endpoint.host, timeout: CONNECT_TIMEOUT_MS });
    const fail = () => {
      socket.destroy();
      resolve(undefined);
    };
    socket.once('error', fail).once('timeout', fail);
    socket.once('connect', () => {
      socket.off('error', fail).off('timeout', fail).setTimeout(0);
      resolve(socket);
    });
  });
}

/**
 * The request as it came for `host` at `path` (`requestTarget`): the request line in origin form, `host` as its Host
 * (first, as RFC 9110 would have it), its other headers with their names' case and order kept, then the ingress's
 * forwarding headers.
 */
function requestHead(req: IncomingMessage, host: string, path: string): string {
  const forwardedFor = req.headers['x-forwarded-for'];
  const forwarded = forwardedHeaders(
    { host, forwardedFor: Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor },
    req.socket,
  );
  const lines = [`${req.method} ${path} HTTP/${req.httpVersion}`, `Host: ${host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    if (name !== 'host' && !Object.hasOwn(forwarded, name))
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  }
  for (const [name, value] of Object.entries(forwarded)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function join(client: Duplex, replica: Socket, request: string, head: Buffer, idleMs: number) {
  replica.setNoDelay(true);
  // The replica's socket carries both ways: it is idle only when the tunnel is.
  replica.setTimeout(idleMs, () => replica.destroy());
  replica.write(request);
  if (head.length > 0) replica.write(head);
  replica.on('error', () => replica.destroy());
  replica.on('close', () => client.destroy());
  client.on('close', () => replica.destroy());
  client.pipe(replica);
  replica.pipe(client);
}

/**
 * Answers the ingress's problem+json to a request for `path` on the bare connection, then closes it: once the client
 * closes its side or resets it — what it sends meanwhile read and thrown away, or neither would be seen, and the
 * connection would stay open for good — or after REFUSED_LINGER_MS, whichever comes first.
 */
function refuse(client: Duplex, path: string, answer: IngressProblem) {
  client.end(problemAnswer(problemOf(answer.code, answer.detail, path.split('?')[0] ?? '/'), answer.headers));
  client.resume();
  setTimeout(() => client.destroy(), REFUSED_LINGER_MS).unref();
}
