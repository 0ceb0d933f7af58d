import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthProbe } from '../../core/ports.ts';

/** Connecting earlier than a port listens costs about a second of TCP retry here, so never time out sooner. */
const MIN_TIMEOUT_MS = 1500;

/** HTTP and TCP health probes over the network, each with one deadline for connect and answer. */
export class NetHealthProbe implements HealthProbe {
  probe(
    endpoint: { host: string; port: number },
    check: { path?: string; timeoutSeconds: number },
  ): Promise<boolean> {
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, check.timeoutSeconds * 1000);
    return check.path ? httpProbe(endpoint, check.path, timeoutMs) : tcpProbe(endpoint, timeoutMs);
  }
}

function httpProbe(
  endpoint: { host: string; port: number },
  path: string,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'GET',
        timeout: timeoutMs,
        headers: { 'user-agent': 'berth-health/1' },
      },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 400);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpProbe(endpoint: { host: string; port: number }, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
