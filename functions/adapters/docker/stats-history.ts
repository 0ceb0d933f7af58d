/** A container's CPU counters at one time: its CPU time and the host's, in ns, as Docker's stats read them. */
export interface CpuReading {
  container: number;
  host: number;
  /** Epoch ms. */
  at: number;
}

/** One frame of Docker's stats stream, as far as a sample reads it. */
export interface StatsFrame {
  cpu: CpuReading;
  onlineCpus: number;
  /** Memory in use, without the page cache the kernel can drop. */
  memoryBytes: number;
  /** The container's memory limit as the engine reports it (the host's memory when it has none). */
  memoryLimitBytes: number;
}

/** What a replica used over a span: CPUs and memory on average, and what they are measured against. */
export interface StatsSample {
  cpus: number;
  memoryBytes: number;
  onlineCpus: number;
  memoryLimitBytes: number;
  spanMs: number;
}

/** How far back readings are kept: the longest window a local sample covers (the API's default window). */
export const HISTORY_MS = 15 * 60_000;
/** Readings before the newest are kept at least this far apart (Docker sends one a second). */
const SPACING_MS = 5000;

/**
 * What a replica's stats stream has shown: its readings over the last HISTORY_MS (the newest, and older ones
 * SPACING_MS apart), so that a sample measures CPU and memory over the window asked, or as much of it as the stream
 * has seen.
 */
export class StatsHistory {
  /** Oldest first. */
  private frames: StatsFrame[] = [];

  add(frame: StatsFrame): void {
    const [beforeLast, last] = this.frames.slice(-2);
    // A container started again counts its CPU from zero: readings from before measure nothing of it.
    if (last && frame.cpu.container < last.cpu.container) this.frames = [];
    else if (beforeLast && last && last.cpu.at - beforeLast.cpu.at < SPACING_MS) this.frames.pop();
    this.frames.push(frame);
    this.frames = this.frames.filter((f) => frame.cpu.at - f.cpu.at <= HISTORY_MS);
  }

  /** Whether a sample can be measured: it takes two readings. */
  get ready(): boolean {
    return this.frames.length >= 2;
  }

  /** When the newest reading was taken (epoch ms). */
  get newestAt(): number | undefined {
    return this.frames.at(-1)?.cpu.at;
  }

  /**
   * The container's use over the last `windowMs` — over less while the stream is younger, or over the two newest
   * readings when the window is shorter than they are apart: CPU from its counters, memory the mean of its readings.
   */
  over(windowMs: number): StatsSample | undefined {
    const newest = this.frames.at(-1);
    const first = this.frames.findIndex(
      (f) => newest && f !== newest && newest.cpu.at - f.cpu.at <= windowMs,
    );
    const span = this.frames.slice(first === -1 ? -2 : first);
    const from = span[0];
    if (!newest || !from || span.length < 2) return undefined;
    const containerNs = newest.cpu.container - from.cpu.container;
    const hostNs = newest.cpu.host - from.cpu.host;
    return {
      cpus: hostNs > 0 && containerNs > 0 ? (containerNs / hostNs) * newest.onlineCpus : 0,
      memoryBytes: span.reduce((sum, f) => sum + f.memoryBytes, 0) / span.length,
      onlineCpus: newest.onlineCpus,
      memoryLimitBytes: newest.memoryLimitBytes,
      spanMs: newest.cpu.at - from.cpu.at,
    };
  }
}
