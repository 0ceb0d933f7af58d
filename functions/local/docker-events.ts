import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { LABELS } from '../adapters/docker/runtime.ts';
import { signalName } from '../adapters/docker/signals.ts';
import { textLines } from '../core/text-lines.ts';
import { type KeepRunningOptions, keepRunning } from './keep-running.ts';

/** What Docker's events of Berth's replicas tell. */
export interface ReplicaEventHandlers {
  /** Something happened to a replica of the app: a pass should look now. */
  changed(tenantId: string, app: string): void;
  /** The engine sent a replica's container a signal (`SIGTERM`, or `signal 64` for one Node does not name). */
  signalled(containerId: string, signal: string): void;
}

/**
 * Turns Docker's container events for Berth's replicas into nudges, so a crash is seen at once rather than at the
 * next tick, and tells the signals the engine sends them (a `docker stop` or `docker kill`, Berth's own stops among
 * them). Nudges only make the loop faster: missing one changes nothing but the delay. The first watch must succeed;
 * when the stream ends (the engine restarted or went away), `keepRunning` watches again, each time after
 * `ensureEngine` (which starts an engine that went away, where the platform may). `stop()` stops watching.
 */
export function watchDockerEvents(
  docker: Docker,
  installation: string,
  handlers: ReplicaEventHandlers,
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
          event: ['start', 'kill', 'die', 'oom', 'destroy', 'pause'],
        },
        abortSignal,
      }),
    )) as Readable;
    // One JSON event a line.
    void (async () => {
      try {
        for await (const line of textLines(events)) tell(line, handlers);
      } catch {
        // The stream's error (the engine going away): 'close' follows it.
      }
    })();
    return {
      // On 'close', which follows an 'error' too (the engine going away resets the stream).
      exited: new Promise<string>((resolve) =>
        events.once('close', () => resolve('was closed by the engine')),
      ),
      stop: async () => {
        events.destroy();
      },
    };
  };
  return keepRunning("the watch on Docker's events", watch, options);
}

type ContainerEvent = { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };

/** Tells the handlers what a Docker event line says of one of Berth's replicas. */
function tell(line: string, handlers: ReplicaEventHandlers) {
  let event: ContainerEvent;
  try {
    event = JSON.parse(line) as ContainerEvent;
  } catch {
    return; // a foreign line: the next tick covers it
  }
  const attributes = event.Actor?.Attributes;
  const id = event.Actor?.ID;
  if (event.Action === 'kill' && id && attributes?.signal)
    handlers.signalled(id, signalName(attributes.signal));
  const tenant = attributes?.[LABELS.tenant];
  const app = attributes?.[LABELS.app];
  if (tenant && app) handlers.changed(tenant, app);
}
