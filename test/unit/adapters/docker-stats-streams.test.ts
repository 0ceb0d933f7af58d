import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HISTORY_MS,
  type StatsFrame,
  StatsHistory,
} from '../../../functions/adapters/docker/stats-history.ts';
import { NEVER, StatsStreams, statsFrameOf } from '../../../functions/adapters/docker/stats-streams.ts';
import { dockerStatsFrame } from '../../support/docker-stats.ts';

/** Now: a stream whose latest reading is old has stalled. */
const T0 = Date.now();
/** A reading `second`s in, with `cpuSeconds` of the container's CPU time and the host's 2 CPUs busy since T0. */
const frame = (second: number, cpuSeconds: number, memoryMiB = 64): StatsFrame => ({
  cpu: { container: cpuSeconds * 1e9, host: second * 2e9, at: T0 + second * 1000 },
  onlineCpus: 2,
  memoryBytes: memoryMiB * 1024 * 1024,
  memoryLimitBytes: 0,
});

/** Docker's frame of the same reading, as its stats stream sends it: 64 MiB once the page cache is left out. */
const dockerFrame = (second: number, cpuSeconds: number) =>
  `${JSON.stringify(dockerStatsFrame(T0, second, cpuSeconds, { usageMiB: 80, inactiveFileMiB: 16, limitMiB: 512 }))}\n`;
const stoppedFrame = `${JSON.stringify({ read: NEVER, cpu_stats: { cpu_usage: { total_usage: 0 } } })}\n`;

describe("a replica's stats history", () => {
  it('measures CPU over the window asked, or over as much of it as it holds', () => {
    const history = new StatsHistory();
    // Half a CPU busy for 30 s.
    for (let s = 0; s <= 30; s++) history.add(frame(s, s / 2));

    expect(history.over(60_000)).toMatchObject({ cpus: 0.5, spanMs: 30_000 });
    expect(history.over(10_000)).toMatchObject({ cpus: 0.5, spanMs: 10_000 });
  });

  it('averages memory over the readings of the window, and answers the limits of the newest', () => {
    const history = new StatsHistory();
    for (let s = 0; s <= 20; s++) history.add(frame(s, 0, s < 10 ? 100 : 200));

    // Kept: 0, 5, 10, 15 and 20; the last 10 s are those at 10, 15 and 20 s.
    expect(history.over(10_000)).toEqual({
      cpus: 0,
      memoryBytes: 200 * 1024 * 1024,
      onlineCpus: 2,
      memoryLimitBytes: 0,
      spanMs: 10_000,
    });
    expect(history.over(60_000)?.memoryBytes).toBe(160 * 1024 * 1024);
  });

  it('keeps readings before the newest 5 s apart, and measures a window shorter than that over the two newest', () => {
    const history = new StatsHistory();
    for (let s = 0; s <= 12; s++) history.add(frame(s, s));

    // Kept: 0, 5, 10 and the newest, 12.
    expect(history.over(1000)?.spanMs).toBe(2000);
    expect(history.over(7000)?.spanMs).toBe(7000);
    expect(history.over(8000)?.spanMs).toBe(7000);
  });

  it('keeps 15 minutes', () => {
    const history = new StatsHistory();
    for (let s = 0; s <= HISTORY_MS / 1000 + 60; s += 5) history.add(frame(s, 0));

    expect(history.over(24 * 3_600_000)?.spanMs).toBe(HISTORY_MS);
  });

  it('starts again when the container does: its CPU time counts from zero', () => {
    const history = new StatsHistory();
    history.add(frame(0, 100));
    history.add(frame(1, 101));
    history.add(frame(2, 0.1));

    expect(history.ready).toBe(false);
    history.add(frame(3, 1.1));
    expect(history.over(60_000)).toMatchObject({ cpus: 1, spanMs: 1000 });
  });

  it('has nothing to measure before two readings', () => {
    const history = new StatsHistory();
    history.add(frame(0, 1));

    expect(history.ready).toBe(false);
    expect(history.over(60_000)).toBeUndefined();
  });
});

describe("Docker's stats frames", () => {
  it('reads CPU, and memory without the page cache the kernel can drop', () => {
    expect(statsFrameOf(dockerFrame(1, 0.5))).toEqual({
      cpu: { container: 0.5e9, host: 2e9, at: T0 + 1000 },
      onlineCpus: 2,
      memoryBytes: 64 * 1024 * 1024,
      memoryLimitBytes: 512 * 1024 * 1024,
    });
  });

  it('reads nothing from the empty frames of a container that is not running', () => {
    expect(statsFrameOf(stoppedFrame)).toBeUndefined();
  });
});

describe('stats streams', () => {
  // The wait for a first sample never runs out here: each answer comes of what the stream showed.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Streams handed out by `open`, in order. */
  function engine() {
    const opened: { id: string; stream: PassThrough }[] = [];
    const streams = new StatsStreams(async (id) => {
      const stream = new PassThrough();
      opened.push({ id, stream });
      return stream;
    });
    const next = () => new Promise((resolve) => setImmediate(resolve));
    /** The `n`th stream opened. */
    const stream = (n: number) => {
      const found = opened[n]?.stream;
      if (!found) throw new Error(`no stream ${n} was opened`);
      return found;
    };
    return { streams, opened, next, stream };
  }

  it("answers a replica's first sample once its stream holds two readings, and later ones from the same stream", async () => {
    const { streams, opened, next, stream } = engine();
    const first = streams.history('c1');
    await next();
    let answered = false;
    void first.then(() => {
      answered = true;
    });
    // A frame split across chunks is read whole.
    const [head, tail] = [dockerFrame(0, 0).slice(0, 20), dockerFrame(0, 0).slice(20)];
    stream(0).write(head);
    stream(0).write(tail);
    await next();
    expect(answered).toBe(false);

    stream(0).write(dockerFrame(1, 0.5));
    expect((await first)?.over(60_000)).toMatchObject({ cpus: 0.5, spanMs: 1000 });
    stream(0).write(dockerFrame(2, 1));
    await next();
    expect((await streams.history('c1'))?.over(60_000)).toMatchObject({ cpus: 0.5, spanMs: 2000 });
    expect(opened.map((o) => o.id)).toEqual(['c1']);
  });

  it('ends a stream when its container stops, and opens another on the next sample', async () => {
    const { streams, opened, next, stream } = engine();
    const first = streams.history('c1');
    await next();
    stream(0).write(dockerFrame(0, 0));
    stream(0).write(dockerFrame(1, 1));
    await first;
    stream(0).write(stoppedFrame);
    await next();

    expect(stream(0).destroyed).toBe(true);
    const again = streams.history('c1');
    await next();
    stream(1).write(stoppedFrame);
    expect(await again).toBeUndefined();
    expect(opened.map((o) => o.id)).toEqual(['c1', 'c1']);
  });

  it("passes on the engine's refusal to open a stream, and asks again on the next sample", async () => {
    let calls = 0;
    const streams = new StatsStreams(async () => {
      calls++;
      throw Object.assign(new Error('no such container'), { statusCode: 404 });
    });

    await expect(streams.history('gone')).rejects.toThrow('no such container');
    await expect(streams.history('gone')).rejects.toThrow('no such container');
    expect(calls).toBe(2);
  });

  it('opens another stream when its latest reading is more than 10 s old: the engine stopped sending', async () => {
    const { streams, opened, next, stream } = engine();
    const first = streams.history('c1');
    await next();
    stream(0).write(dockerFrame(-60, 0));
    stream(0).write(dockerFrame(-59, 1));
    await first;

    void streams.history('c1');
    await next();

    expect(stream(0).destroyed).toBe(true);
    expect(opened.map((o) => o.id)).toEqual(['c1', 'c1']);
    streams.close();
  });

  it('opens a stream at once when asked to watch a container, and only one however often it is asked', async () => {
    const { streams, opened, next, stream } = engine();
    streams.watchNow('c1');
    streams.watchNow('c1');
    await next();
    stream(0).write(dockerFrame(0, 0));
    stream(0).write(dockerFrame(1, 1));
    await next();

    expect((await streams.history('c1'))?.over(60_000)).toMatchObject({ cpus: 1, spanMs: 1000 });
    expect(opened.map((o) => o.id)).toEqual(['c1']);
    streams.close();
  });

  it('ends every stream on close, one still being opened too', async () => {
    const { streams, opened, next } = engine();
    void streams.history('c1');
    void streams.history('c2');
    await next();

    // One still being opened: destroyed once it comes, as nobody will read it.
    streams.watchNow('c3');
    streams.close();
    await next();

    expect(opened.map((o) => [o.id, o.stream.destroyed])).toEqual([
      ['c1', true],
      ['c2', true],
      ['c3', true],
    ]);
  });
});
