import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABELS } from '../adapters/docker/runtime.ts';

export interface DockerEventsOptions {
  /** The wait before watching again once the stream ends (the engine restarted); doubled while that fails. */
  retryMs: number;
  maxRetryMs: number;
}

const DEFAULT_OPTIONS: DockerEventsOptions = { retryMs: 1000, maxRetryMs: 30_000 };

/**
 * Turns Docker's container events for Berth's replicas into nudges, so a crash is seen at once rather than at the
 * next tick. Events only make the loop faster: missing one changes nothing but the delay. The first watch must
 * succeed; when the stream ends (the engine restarted or went away), it is watched again, with a growing wait while
 * the engine does not answer. The function it resolves with stops watching.
 */
export async function watchDockerEvents(
  docker: Docker,
  installation: string,
  onChange: (tenantId: string, app: string) => void,
  options: DockerEventsOptions = DEFAULT_OPTIONS,
): Promise<() => void> {
  let stopped = false;
  let stream: Readable | undefined;
  let retry: NodeJS.Timeout | undefined;

  const watch = async () => {
    const events = (await docker.getEvents({
      filters: {
        type: ['container'],
        label: [`${LABELS.installation}=${installation}`],
        event: ['start', 'die', 'oom', 'destroy'],
      },
    })) as Readable;
    if (stopped) {
      events.destroy();
      return;
    }
    stream = events;
    let buffer = '';
    events.on('data', (chunk: Buffer) => {
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
    events.on('error', () => {});
    events.once('close', () => watchAgain(options.retryMs));
  };

  const watchAgain = (waitMs: number) => {
    if (stopped) return;
    retry = setTimeout(() => {
      watch().catch(() => watchAgain(Math.min(waitMs * 2, options.maxRetryMs)));
    }, waitMs);
  };

  await watch();
  return () => {
    stopped = true;
    clearTimeout(retry);
    stream?.destroy();
  };
}
