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

/** How far back readings are kept: the longest window a local sample covers (the API's default window). */
export const HISTORY_MS = 15 * 60_000;
/** Readings before the newest are kept at least this far apart (Docker sends one a second). */
const SPACING_MS = 5000;

/**
 * What a replica's stats stream has shown: its CPU readings over the last HISTORY_MS (the newest, and older ones
 * SPACING_MS apart) and its latest memory, so that a sample measures CPU over the window asked, or as much of it as
 * the stream has seen.
 */
export class StatsHistory {
  /** Oldest first. */
  private readings: CpuReading[] = [];
  /** The newest frame: what memory and the CPU count are read from. */
  latest?: StatsFrame;

  add(frame: StatsFrame): void {
    const [beforeLast, last] = this.readings.slice(-2);
    // A container started again counts its CPU from zero: readings from before measure nothing of it.
    if (last && frame.cpu.container < last.container) this.readings = [];
    else if (beforeLast && last && last.at - beforeLast.at < SPACING_MS) this.readings.pop();
    this.readings.push(frame.cpu);
    this.readings = this.readings.filter((r) => frame.cpu.at - r.at <= HISTORY_MS);
    this.latest = frame;
  }

  /** Whether a sample can be measured: it takes two readings. */
  get ready(): boolean {
    return this.readings.length >= 2;
  }

  /**
   * The CPUs the container used on average over the last `windowMs` — over less while the stream is younger, or over
   * the two newest readings when the window is shorter than they are apart — and the span measured.
   */
  cpuOver(windowMs: number): { cpus: number; spanMs: number } | undefined {
    const newest = this.readings.at(-1);
    const base = this.readings.find((r) => newest && r !== newest && newest.at - r.at <= windowMs);
    const from = base ?? this.readings.at(-2);
    if (!newest || !from || !this.latest) return undefined;
    const containerNs = newest.container - from.container;
    const hostNs = newest.host - from.host;
    return {
      cpus: hostNs > 0 && containerNs > 0 ? (containerNs / hostNs) * this.latest.onlineCpus : 0,
      spanMs: newest.at - from.at,
    };
  }
}
