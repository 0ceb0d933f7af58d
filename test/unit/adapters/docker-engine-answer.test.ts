import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DockerRuntime } from '../../../functions/adapters/docker/runtime.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { ensureDockerEngine } from '../../../functions/local/docker-engine.ts';
import { exitedReplica } from '../../support/exited-replica.ts';
import { WEB_REPLICA } from '../../support/replica-spec.ts';

/** The bounds the runtime under test is given: short, so that a test waits them out. */
const ANSWER_MS = { call: 100, pull: 200, pullProgress: 300 };

/** One frame of Docker's multiplexed log (stdout). */
const logFrame = (line: string) => {
  const payload = Buffer.from(`${line}\n`);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

/**
 * An engine on a Unix socket that takes every call and answers none, as a hung `dockerd` does — but for a followed
 * log, whose answer begins at once and whose one line comes after the runtime's bound has passed.
 */
async function hungEngine(dir: string) {
  const open = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (/\/containers\/r1\/logs\?.*follow=true/.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      res.flushHeaders();
      setTimeout(
        () => res.end(logFrame('2026-12-02T10:00:00.000000000Z late but whole')),
        ANSWER_MS.call * 3,
      );
    }
    // Anything else: taken, never answered.
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  const socketPath = join(dir, 'docker.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    openConnections: () => open.size,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('calls to a Docker Engine that takes them and never answers', () => {
  let dir: string;
  let engine: Awaited<ReturnType<typeof hungEngine>>;
  let runtime: DockerRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-hung-engine-'));
    engine = await hungEngine(dir);
    runtime = new DockerRuntime(new Docker({ socketPath: engine.socketPath }), 'berth', {
      answerMs: ANSWER_MS,
    });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are given up as unavailable once their bound passes, and their connections closed', async () => {
    const listed = runtime.listReplicas();
    await expect(listed).rejects.toBeInstanceOf(UnavailableError);
    await expect(listed).rejects.toThrow('the Docker Engine did not answer within 0.1 s; retry shortly');
    await expect(runtime.removeReplica('r1')).rejects.toThrow('did not answer within 0.1 s');
    await vi.waitFor(() => expect(engine.openConnections()).toBe(0));
  });

  it("wait for a stop as long as the replica's grace, and for a pull as long as a registry may take", async () => {
    await expect(runtime.stopReplica('r1', 1)).rejects.toThrow('did not answer within 1.1 s');
    await expect(runtime.startReplica({ ...WEB_REPLICA, image: 'acme/web:latest' })).rejects.toThrow(
      'did not answer within 0.2 s',
    );
    // By tag, the engine is asked first whether it holds the image: a call like any other.
    await expect(runtime.startReplica(WEB_REPLICA)).rejects.toThrow('did not answer within 0.1 s');
  });

  it('bound a streamed answer until it begins, and leave the stream to its reader', async () => {
    const lines: string[] = [];
    for await (const line of runtime.replicaLogs(exitedReplica({ state: 'running' }), { follow: true }))
      lines.push(line);
    expect(lines).toEqual(['2026-12-02T10:00:00.000000000Z late but whole']);
  });

  it("end the platform's start with what to do, where it waited for ever for the first", async () => {
    vi.stubEnv('DOCKER_HOST', `unix://${engine.socketPath}`);
    await expect(ensureDockerEngine(dir)).rejects.toThrow(
      `Docker Engine at DOCKER_HOST=unix://${engine.socketPath} does not answer.`,
    );
  }, 15_000);
});
