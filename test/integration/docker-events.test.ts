import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { LABELS } from '../../functions/adapters/docker/runtime.ts';
import { ensureDockerEngine } from '../../functions/local/docker-engine.ts';
import { watchDockerEvents } from '../../functions/local/docker-events.ts';
import { eventually } from '../support/ingress-client.ts';

describe("Docker Engine's events for Berth's replicas", () => {
  it("nudge the replica's app as its container starts, is paused and dies, and nothing for another installation's", async () => {
    const docker = new Docker();
    const installation = `t-${randomUUID()}`;
    const nudged: string[] = [];
    const watching = await watchDockerEvents(
      docker,
      installation,
      (tenant, app) => nudged.push(`${tenant}/${app}`),
      // The engine answers, so this only asks it so; it would start one where none answered.
      () => ensureDockerEngine(tmpdir()),
    );
    const run = async (labels: Record<string, string>) => {
      const container = await docker.createContainer({
        Image: inject('testImage'),
        Cmd: ['sleep', '60'],
        Labels: labels,
      });
      await container.start();
      await container.pause();
      await container.remove({ force: true });
    };
    try {
      await run({
        [LABELS.installation]: `other-${installation}`,
        [LABELS.tenant]: 'acme',
        [LABELS.app]: 'other',
      });
      await run({ [LABELS.installation]: installation, [LABELS.tenant]: 'acme', [LABELS.app]: 'web' });
      // start, pause, die and destroy
      await eventually('four nudges', async () => (nudged.length >= 4 ? true : undefined), 10_000);
      expect(new Set(nudged)).toEqual(new Set(['acme/web']));
    } finally {
      await watching.stop();
    }
  });
});
