import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { ENGINE_ANSWER_MS } from '../../functions/adapters/docker/engine-answer.ts';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { dockerCli } from '../support/docker-cli.ts';
import { startOpenRegistry } from '../support/open-registry.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';
import { workerPort } from '../support/worker-port.ts';

describe('pulling an app’s image with Docker Engine', () => {
  it("says why an image could not be pulled in the engine's own words", async () => {
    const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`);
    // `.invalid` never resolves (RFC 2606): the engine refuses the pull before it starts.
    const image = 'registry.invalid/acme/web:1';
    const started = runtime.startReplica({ ...WEB_REPLICA, image });
    const error = await started.then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/^pulling registry\.invalid\/acme\/web:1 failed: .*registry\.invalid/);
    expect(error?.message).not.toContain('HTTP code');
    // Nor the machine's resolver, which the engine names: "lookup registry.invalid on 10.0.0.2:53: no such host".
    expect(error?.message).toContain('lookup registry.invalid: ');
    expect(error?.message).not.toMatch(/:53\b/);
  });

  it('takes a reference for the image it names, never for the id of an image the engine holds', async () => {
    const docker = new Docker();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    // The test image, as another tenant's app would have it pulled: in the engine, with an id of its own.
    const id = (await docker.getImage(inject('testImage')).inspect()).Id.replace('sha256:', '').slice(0, 12);
    const references: [image: string, named: string][] = [
      [id, `docker.io/library/${id}:latest`],
      [`sha256:${id}`, `docker.io/library/sha256:${id}`],
    ];
    for (const [image, named] of references) {
      const error = await runtime.startReplica({ ...WEB_REPLICA, image }).then(
        async (started) => {
          await runtime.stopReplica(started.id, 0);
          await runtime.removeReplica(started.id);
        },
        (err: Error) => err,
      );
      expect(error?.message).toMatch(new RegExp(`^pulling ${named.replaceAll('.', '\\.')} failed: `));
    }
  });

  it('pulls `:latest` at every start, as ECS and Kubernetes do, and takes any other tag from the engine', async () => {
    const docker = new Docker();
    const cli = dockerCli();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const registry = await startOpenRegistry();
    const latest = `${registry.address}/pub/web:latest`;
    const pinned = `${registry.address}/pub/web:1`;
    const imageOf = async (replicaId: string) => (await docker.getContainer(replicaId).inspect()).Image;
    const run = async (image: string) => {
      const replica = await runtime.startReplica({ ...WEB_REPLICA, image });
      try {
        return await imageOf(replica.id);
      } finally {
        await runtime.removeReplica(replica.id);
      }
    };
    try {
      const first = (await docker.getImage(inject('testImage')).inspect()).Id;
      // Another build pushed under the same tags from elsewhere: the engine still holds the first under both names.
      const context = mkdtempSync(join(tmpdir(), 'berth-second-build-'));
      writeFileSync(join(context, 'Dockerfile'), `FROM ${inject('testImage')}\nLABEL build=second\n`);
      cli.ok(['build', '-q', '-t', latest, context]);
      rmSync(context, { recursive: true, force: true });
      const second = (await docker.getImage(latest).inspect()).Id;
      cli.ok(['tag', latest, pinned]);
      cli.ok(['push', latest]);
      cli.ok(['push', pinned]);
      cli.ok(['tag', first, latest]);
      cli.ok(['tag', first, pinned]);

      expect(await run(pinned)).toBe(first);
      expect(await run(latest)).toBe(second);
    } finally {
      cli.run(['rmi', latest, pinned]);
      await registry.stop();
    }
  });

  it('removes the images it pulled once no container uses them, and keeps those in use and those not its own', async () => {
    const docker = new Docker();
    const cli = dockerCli();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const registry = await startOpenRegistry();
    const collectable = (reference: string) => reference.startsWith(`${registry.address}/`);
    const exists = (reference: string) =>
      docker
        .getImage(reference)
        .inspect()
        .then(
          () => true,
          () => false,
        );
    const started: string[] = [];
    const start = async (slot: number, image: string) =>
      started.push((await runtime.startReplica({ ...WEB_REPLICA, slot, image })).id);
    try {
      // Two builds pushed, then known to the engine only by their digests, as a pull by digest leaves them.
      const [kept, unused] = ['kept', 'unused'].map((build) => {
        const tag = `${registry.address}/acme/web:${build}`;
        const context = mkdtempSync(join(tmpdir(), 'berth-unused-images-'));
        writeFileSync(
          join(context, 'Dockerfile'),
          `FROM ${inject('testImage')}\nLABEL build=${randomUUID()}\n`,
        );
        cli.ok(['build', '-q', '-t', tag, context]);
        rmSync(context, { recursive: true, force: true });
        cli.ok(['push', tag]);
        const digest = cli.ok(['inspect', '--format', '{{index .RepoDigests 0}}', tag]).trim();
        cli.ok(['rmi', tag]);
        return digest;
      });
      await start(0, kept ?? '');
      await start(1, unused ?? '');
      await runtime.stopReplica(started[1] ?? '', 0);
      await runtime.removeReplica(started[1] ?? '');
      expect(await runtime.removeUnusedImages(collectable)).toBe(1);
      expect(await exists(unused ?? '')).toBe(false);
      expect(await exists(kept ?? '')).toBe(true);
      expect(await exists(inject('testImage'))).toBe(true);
      // An app that goes back to it has it pulled again.
      await start(1, unused ?? '');
      expect(await exists(unused ?? '')).toBe(true);
    } finally {
      for (const id of started) await runtime.removeReplica(id);
      await runtime.removeUnusedImages(collectable);
      await registry.stop();
    }
  });

  it('pulls again from a registry that could not be reached for a moment, as one started again is', async () => {
    const docker = new Docker();
    const cli = dockerCli();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const registry = await startOpenRegistry();
    // The registry at an address where nothing listens at first: the engine's pull is refused at once.
    const port = await workerPort();
    const pushed = `${registry.address}/acme/web:${randomUUID()}`;
    const image = `127.0.0.1:${port}/acme/web:${pushed.split(':').pop()}`;
    const sockets = new Set<Socket>();
    const forwarder = createNetServer((client) => {
      const upstream = connect(Number(registry.address.split(':').pop()), '127.0.0.1');
      for (const socket of [client, upstream]) sockets.add(socket);
      client.on('error', () => upstream.destroy()).pipe(upstream);
      upstream.on('error', () => client.destroy()).pipe(client);
    });
    const listening = new Promise<void>((resolve) =>
      setTimeout(() => forwarder.listen(port, '127.0.0.1', resolve), 1_500),
    );
    let replica: string | undefined;
    try {
      cli.ok(['tag', inject('testImage'), pushed]);
      cli.ok(['push', pushed]);
      cli.ok(['rmi', pushed]);
      replica = (await runtime.startReplica({ ...WEB_REPLICA, image })).id;
      await listening;
      expect((await docker.getContainer(replica).inspect()).Config.Image).toBe(image);
    } finally {
      if (replica) await runtime.removeReplica(replica);
      cli.run(['rmi', image]);
      await listening;
      forwarder.close();
      for (const socket of sockets) socket.destroy();
      await registry.stop();
    }
  });

  it("pulls with the tenant's credentials from a registry that asks for them, and fails a pull without", async () => {
    const docker = new Docker();
    const cli = dockerCli();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const registry = await startOpenRegistry();
    const credentials = { username: 'acme', password: 'brc_secret' };
    const gate = await gatedRegistry(registry.address, credentials);
    const tag = randomUUID();
    const pushed = `${registry.address}/acme/web:${tag}`;
    const image = `${gate.address}/acme/web:${tag}`;
    let replica: string | undefined;
    try {
      cli.ok(['tag', inject('testImage'), pushed]);
      cli.ok(['push', pushed]);
      cli.ok(['rmi', pushed]);
      await expect(runtime.startReplica({ ...WEB_REPLICA, image })).rejects.toThrow(/^pulling .* failed: /);
      const pullCredentials = { registry: gate.address, ...credentials };
      replica = (await runtime.startReplica({ ...WEB_REPLICA, image, pullCredentials })).id;
      expect((await docker.getContainer(replica).inspect()).Config.Image).toBe(image);
    } finally {
      if (replica) await runtime.removeReplica(replica);
      cli.run(['rmi', image]);
      gate.stop();
      await registry.stop();
    }
  });

  it('never shows the tenant what answered where no registry is: the engine quotes the body of such an answer', async () => {
    const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`);
    // What a registry name resolving into the platform's own network at pull time reaches: an internal service.
    const internal = createServer((req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`internal secret for ${req.url}\n`);
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    const { port } = internal.address() as AddressInfo;
    const image = `127.0.0.1:${port}/acme/web:1`;
    try {
      const error = await runtime.startReplica({ ...WEB_REPLICA, image }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).toBe(
        `pulling ${image} failed: error parsing HTTP 404 response body (not a registry's answer; not shown)`,
      );
    } finally {
      internal.close();
    }
  });

  it('gives up a pull that shows no progress, where the engine would wait for ever on a registry stalled part-way', async () => {
    const registry = await stallingRegistry();
    const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`, {
      answerMs: { ...ENGINE_ANSWER_MS, pullProgress: 2_000 },
    });
    const image = `${registry.address}/acme/web:1`;
    try {
      await expect(runtime.startReplica({ ...WEB_REPLICA, image })).rejects.toThrow(
        `pulling ${image} failed: no progress for 2 s`,
      );
      // The engine was sent part of the layer, and waits on for the rest.
      expect(registry.layerRequests()).toBe(1);
    } finally {
      await registry.stop();
    }
  });
});

/**
 * A registry on 127.0.0.1 (which the engine reaches without TLS) serving one image whose only layer it sends a
 * kilobyte of, then nothing more, holding the connection open. The layer's digest is new each time, so the engine
 * cannot join a download an earlier run left waiting.
 */
async function stallingRegistry() {
  const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const layer = `sha256:${randomBytes(32).toString('hex')}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [`sha256:${randomBytes(32).toString('hex')}`] },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config),
      },
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 5_000_000, digest: layer },
      ],
    }),
  );
  let layerRequests = 0;
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else if (url.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'docker-content-digest': sha256(manifest),
        'content-length': manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (url.endsWith(sha256(config))) {
      res.writeHead(200, { 'content-length': config.length });
      res.end(config);
    } else if (url.endsWith(layer)) {
      layerRequests++;
      res.writeHead(200, { 'content-length': 5_000_000, 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    layerRequests: () => layerRequests,
    /** Closes the held connection too: the engine's download fails then, and ends. */
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The registry at `upstream` behind a gate that takes only `username` and `password` (HTTP Basic, as a private
 * registry may ask), answering anything else 401 as a registry does.
 */
async function gatedRegistry(
  upstream: string,
  { username, password }: { username: string; password: string },
) {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const [host, port] = upstream.split(':');
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="berth-test"',
        'docker-distribution-api-version': 'registry/2.0',
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const headers = { ...req.headers, host: upstream };
    const forwarded = request(
      { host, port: Number(port), method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
