import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { LABELS } from '../adapters/docker/runtime.ts';
import { textLines } from '../core/text-lines.ts';
import { type KeepRunningOptions, keepRunning } from './keep-running.ts';

/**
 * Turns Docker's container events for Berth's replicas into nudges, so a crash is seen at once rather than at the
 * next tick. Events only make the loop faster: missing one changes nothing but the delay. The first watch must
 * succeed; when the stream ends (the engine restarted or went away), `keepRunning` watches again, each time after
 * `ensureEngine` (which starts an engine that went away, where the platform may). `stop()` stops watching.
 */
export function watchDockerEvents(
  docker: Docker,
  installation: string,
  onChange: (tenantId: string, app: string) => void,
  ensureEngine: () => Promise<unknown>,
  options?: KeepRunningOptions,
): Promise<{ stop(): Promise<void> }> {
  const watch = async () => {
    await ensureEngine();
    const events = (await answered((abortSignal) =>
      docker.getEvents({
        filters: {
          type: ['container'],
          label: [`${LABELS.installation}=${installation}`],
          event: ['start', 'die', 'oom', 'destroy', 'pause'],
        },
        abortSignal,
      }),
    )) as Readable;
    // One JSON event a line.
    void (async () => {
      try {
        for await (const line of textLines(events)) nudgeFor(line, onChange);
      } catch {
        // The stream's error (the engine going away): 'close' follows it.
      }
    })();
    return {
      // On 'close', which follows an 'error' too (the engine going away resets the stream).
      exited: new Promise<void>((resolve) => events.once('close', () => resolve())),
      stop: async () => {
        events.destroy();
      },
    };
  };
  return keepRunning("the watch on Docker's events", watch, options);
}

/** Nudges the app a Docker event line names, if it names one of Berth's. */
function nudgeFor(line: string, onChange: (tenantId: string, app: string) => void) {
  try {
    const attributes = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor
      ?.Attributes;
    const tenant = attributes?.[LABELS.tenant];
    const app = attributes?.[LABELS.app];
    if (tenant && app) onChange(tenant, app);
  } catch {
    // a foreign line: the next tick covers it
  }
}
