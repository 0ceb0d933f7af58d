import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABELS } from '../adapters/docker/runtime.ts';

/**
 * Turns Docker's container events for Berth's replicas into nudges, so a crash is seen at once rather than at the
 * next tick. Events only make the loop faster: missing one changes nothing but the delay.
 */
export async function watchDockerEvents(
  docker: Docker,
  installation: string,
  onChange: (tenantId: string, app: string) => void,
): Promise<() => void> {
  const stream = (await docker.getEvents({
    filters: {
      type: ['container'],
      label: [`${LABELS.installation}=${installation}`],
      event: ['start', 'die', 'oom', 'destroy'],
    },
  })) as Readable;
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (buffer + chunk.toString()).split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) {
      try {
        const attributes = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor
          ?.Attributes;
        const tenant = attributes?.[LABELS.tenant];
        const app = attributes?.[LABELS.app];
        if (tenant && app) onChange(tenant, app);
      } catch {
        // a partial or foreign line: the next tick covers it
      }
    }
  });
  stream.on('error', () => {});
  return () => stream.destroy();
}
