import { randomUUID } from 'node:crypto';
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
});
