import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchDockerEvents } from '../../../functions/local/docker-events.ts';

const OPTIONS = { retryMs: 1000, maxRetryMs: 4000, log: () => {} };

/** An engine whose event streams the test ends, and which refuses to watch while `down`. */
function engine() {
  const streams: PassThrough[] = [];
  const watchedAt: number[] = [];
  const state = { down: false };
  const docker = {
    getEvents: async () => {
      watchedAt.push(Date.now());
      if (state.down)
        throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
      const stream = new PassThrough();
      streams.push(stream);
      return stream;
    },
  } as unknown as Docker;
  return { docker, streams, watchedAt, state };
}

const event = (tenant: string, app: string, action = 'die', attributes: Record<string, string> = {}) =>
  `${JSON.stringify({
    Type: 'container',
    Action: action,
    Actor: { ID: `c-${app}`, Attributes: { 'berth.tenant': tenant, 'berth.app': app, ...attributes } },
  })}\n`;

/** Handlers that note what they are told. */
function noting() {
  const nudged: string[] = [];
  const signalled: string[] = [];
  const handlers = {
    changed: (tenant: string, app: string) => nudged.push(`${tenant}/${app}`),
    signalled: (id: string, signal: string) => signalled.push(`${id} ${signal}`),
  };
  return { nudged, signalled, handlers };
}

describe('watching Docker events when the engine restarts', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('watches again once the stream ends, waiting longer while the engine does not answer, until stopped', async () => {
    const { docker, streams, watchedAt, state } = engine();
    const { nudged, signalled, handlers } = noting();
    const watching = await watchDockerEvents(docker, 'berth', handlers, async () => {}, OPTIONS);
    streams[0]?.write(event('acme', 'web'));
    await vi.advanceTimersByTimeAsync(0);
    expect(nudged).toEqual(['acme/web']);
    // A signal the engine sent, by its name where Node has one.
    streams[0]?.write(event('acme', 'web', 'kill', { signal: '15' }));
    streams[0]?.write(event('acme', 'web', 'kill', { signal: '99' }));
    streams[0]?.write('not an event\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(signalled).toEqual(['c-web SIGTERM', 'c-web signal 99']);
    nudged.length = 0;

    // The engine goes down: the stream is reset, and watching fails until it is back.
    state.down = true;
    streams[0]?.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 4000);
    const started = watchedAt[0] ?? 0;
    expect(watchedAt.map((at) => at - started)).toEqual([0, 1000, 3000, 7000, 11_000]);

    state.down = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(streams).toHaveLength(2);
    streams[1]?.write(event('acme', 'api'));
    await vi.advanceTimersByTimeAsync(0);
    expect(nudged).toEqual(['acme/api']);

    await watching.stop();
    expect(streams[1]?.destroyed).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(watchedAt).toHaveLength(6);
  });

  it('has the engine started again before it watches again, where the engine went away', async () => {
    const { docker, streams, watchedAt, state } = engine();
    const ensured: boolean[] = [];
    // What ensureDockerEngine does where the platform may start dockerd: the engine answers once it returns.
    const ensureEngine = async () => {
      ensured.push(state.down);
      state.down = false;
    };
    const watching = await watchDockerEvents(docker, 'berth', noting().handlers, ensureEngine, OPTIONS);
    state.down = true;
    streams[0]?.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(ensured).toEqual([false, true]);
    expect(watchedAt).toHaveLength(2);
    expect(streams[1]?.destroyed).toBe(false);
    await watching.stop();
  });
});
