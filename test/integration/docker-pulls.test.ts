import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

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
});
