import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { LABELS } from '../../functions/adapters/docker/runtime.ts';
import { ensureDockerEngine } from '../../functions/local/docker-engine.ts';
import { watchDockerEvents } from '../../functions/local/docker-events.ts';
import { eventually } from '../support/ingress-client.ts';

describe("Docker Engine's events for Berth's replicas", () => {
  it("nudge the replica's app as its container starts, is paused, signalled and dies, and nothing for another installation's", async () => {
    const docker = new Docker();
    const installation = `t-${randomUUID()}`;
    const nudged: string[] = [];
    const signalled: string[] = [];
    const watching = await watchDockerEvents(
      docker,
      installation,
      {
        changed: (tenant, app) => nudged.push(`${tenant}/${app}`),
        signalled: (id, signal) => signalled.push(`${id} ${signal}`),
      },
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
      // The engine kills it (SIGKILL) to remove it.
      await container.remove({ force: true });
      return container.id;
    };
    try {
      await run({
        [LABELS.installation]: `other-${installation}`,
        [LABELS.tenant]: 'acme',
        [LABELS.app]: 'other',
      });
      const id = await run({
        [LABELS.installation]: installation,
        [LABELS.tenant]: 'acme',
        [LABELS.app]: 'web',
      });
      // start, pause, kill, die and destroy
      await eventually('five nudges', async () => (nudged.length >= 5 ? true : undefined), 10_000);
      expect(new Set(nudged)).toEqual(new Set(['acme/web']));
      expect(signalled).toEqual([`${id} SIGKILL`]);
    } finally {
      await watching.stop();
    }
  });
});
