import type { Readable } from 'node:stream';
import { textLines } from '../../core/text-lines.ts';
import { type StatsFrame, StatsHistory } from './stats-history.ts';

/** How long a replica's first sample waits for its stream's second reading (Docker sends one a second). */
const FIRST_SAMPLE_MS = 3000;
/** A stream whose latest reading is older than this has stalled: the next sample opens another. */
const STALLED_MS = 10_000;
/** The time Docker gives for never: a container's that never started, a reading of one that is not running. */
export const NEVER = '0001-01-01T00:00:00Z';

interface Watch {
  history: StatsHistory;
  /** Settles once the history can be sampled, the stream ended, or FIRST_SAMPLE_MS passed; rejects as opening did. */
  ready: Promise<void>;
  stream?: Readable;
}

/** The part of a frame of Docker's stats stream a sample reads. */
interface DockerStatsFrame {
  read: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** A frame as a sample reads it; undefined for the empty ones Docker sends while the container is stopped. */
export function statsFrameOf(line: string): StatsFrame | undefined {
  const frame = JSON.parse(line) as DockerStatsFrame;
  const cpu = frame.cpu_stats;
  if (
    frame.read === NEVER ||
    cpu?.cpu_usage?.total_usage === undefined ||
    cpu.system_cpu_usage === undefined
  ) {
    return undefined;
  }
  const memory = frame.memory_stats ?? {};
  const cache = memory.stats?.inactive_file ?? memory.stats?.total_inactive_file ?? 0;
  return {
    cpu: { container: cpu.cpu_usage.total_usage, host: cpu.system_cpu_usage, at: Date.parse(frame.read) },
    onlineCpus: cpu.online_cpus || 1,
    memoryBytes: Math.max(0, (memory.usage ?? 0) - cache),
    memoryLimitBytes: memory.limit ?? 0,
  };
}

/**
 * A stats stream for each running container seen (`watchNow`) or sampled. Docker reads a container's counters
 * once a second while a stream is open and has no history otherwise: a replica's first sample without one waits for
 * its stream's second reading (one to two seconds: the engine's next round of readings, then one more); every later
 * one answers at once, over as much of the window asked as the stream has seen. A stream ends when its container
 * stops or is removed (the next sample opens another), or on `close`.
 */
export class StatsStreams {
  private readonly watches = new Map<string, Watch>();

  /** `open` asks Docker for a container's stats stream; it rejects as Docker answers (404 for no such container). */
  constructor(private readonly open: (id: string) => Promise<Readable>) {}

  /** What `id`'s stream has shown, once it can be sampled; undefined if it cannot be in time (stopped, or gone). */
  async history(id: string): Promise<StatsHistory | undefined> {
    const current = this.watches.get(id);
    const newestAt = current?.history.newestAt;
    if (newestAt !== undefined && Date.now() - newestAt > STALLED_MS) current?.stream?.destroy();
    const watch = current && !current.stream?.destroyed ? current : this.watch(id);
    await watch.ready;
    return watch.history.ready ? watch.history : undefined;
  }

  /** Opens the stream of a running container unless it has one, so that its first sample answers at once too. */
  watchNow(id: string): void {
    if (!this.watches.has(id)) this.watch(id).ready.catch(() => undefined);
  }

  /** Ends every stream. */
  close(): void {
    for (const watch of this.watches.values()) watch.stream?.destroy();
    this.watches.clear();
  }

  private watch(id: string): Watch {
    const forget = () => {
      if (this.watches.get(id) === watch) this.watches.delete(id);
    };
    const watch: Watch = {
      history: new StatsHistory(),
      ready: new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, FIRST_SAMPLE_MS).unref();
        const settle = () => {
          clearTimeout(timer);
          resolve();
        };
        this.open(id).then(
          async (stream) => {
            watch.stream = stream;
            try {
              // Closed while it was being opened: nobody reads it.
              if (this.watches.get(id) !== watch) return;
              for await (const line of textLines(stream)) {
                const frame = statsFrameOf(line);
                if (!frame) break;
                watch.history.add(frame);
                if (watch.history.ready) settle();
              }
            } catch {
              // Destroyed by `close`, or the engine went away: the next sample opens another.
            } finally {
              stream.destroy();
              forget();
              settle();
            }
          },
          (err: unknown) => {
            forget();
            clearTimeout(timer);
            reject(err);
          },
        );
      }),
    };
    this.watches.set(id, watch);
    return watch;
  }
}
