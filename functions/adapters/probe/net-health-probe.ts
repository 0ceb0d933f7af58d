import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthProbe, ProbeAnswer } from '../../core/ports.ts';

/** Connecting earlier than a port listens costs about a second of TCP retry here, so never time out sooner. */
const MIN_TIMEOUT_MS = 1500;

const HEALTHY: ProbeAnswer = { ok: true };

/** Why a connection failed, without the replica's address (Node's messages name it). */
function connectionFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ECONNRESET') return 'connection reset';
  return `connection failed (${err.code ?? 'unknown error'})`;
}

/** HTTP and TCP health probes over the network, each with one deadline for connect and answer. */
export class NetHealthProbe implements HealthProbe {
  probe(
    endpoint: { host: string; port: number },
    check: { path?: string; timeoutSeconds: number },
  ): Promise<ProbeAnswer> {
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, check.timeoutSeconds * 1000);
    return check.path ? httpProbe(endpoint, check.path, timeoutMs) : tcpProbe(endpoint, timeoutMs);
  }
}

function httpProbe(
  endpoint: { host: string; port: number },
  path: string,
  timeoutMs: number,
): Promise<ProbeAnswer> {
  const what = `GET ${path} on port ${endpoint.port}`;
  return new Promise((resolve) => {
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'GET',
        timeout: timeoutMs,
        // A connection of its own, never the global agent's: with NODE_USE_ENV_PROXY set, that one goes through the
        // proxy the environment names, which cannot reach a replica on the engine's bridge.
        agent: false,
        headers: { 'user-agent': 'berth-health/1' },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 500;
        resolve(status < 400 ? HEALTHY : { ok: false, why: `${what} answered ${status}` });
      },
    );
    req.on('timeout', () => {
      resolve({ ok: false, why: `${what} had no answer within ${timeoutMs / 1000} s` });
      req.destroy();
    });
    req.on('error', (err) => resolve({ ok: false, why: `${what}: ${connectionFailure(err)}` }));
    req.end();
  });
}

function tcpProbe(endpoint: { host: string; port: number }, timeoutMs: number): Promise<ProbeAnswer> {
  const what = `TCP connect to port ${endpoint.port}`;
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(HEALTHY);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, why: `${what}: no answer within ${timeoutMs / 1000} s` });
    });
    socket.once('error', (err) => resolve({ ok: false, why: `${what}: ${connectionFailure(err)}` }));
  });
}
