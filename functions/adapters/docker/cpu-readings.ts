/** A container's CPU counters at one time: its CPU time and the host's, in ns, as Docker's stats read them. */
export interface CpuReading {
  container: number;
  host: number;
  /** Epoch ms. */
  at: number;
}

/** A sample is measured against a reading at least this old: over less, the host's count (in ticks) is too coarse. */
const MIN_SPAN_MS = 1000;
/** …and at most this old: past it, or with none, the sample waits for Docker's own pair a second apart. */
const MAX_AGE_MS = 60_000;

/**
 * The last CPU readings of each replica sampled, so that the next sample needs one reading from Docker (its one-shot
 * answer, which waits for the engine's next reading: up to 1 s) instead of its pair a second apart (up to 2 s):
 * whoever samples again — a dashboard, the autoscaler — waits half as long and gets the CPU over the span since.
 */
export class CpuReadings {
  /** Each replica's last two readings, oldest first: a sample just after another is measured against the one before. */
  private readonly readings = new Map<string, CpuReading[]>();

  /** The newest reading a sample of `id` taken `now` can be measured against, if one is usable. */
  baseFor(id: string, now: number): CpuReading | undefined {
    return this.readings.get(id)?.findLast((r) => now - r.at >= MIN_SPAN_MS && now - r.at <= MAX_AGE_MS);
  }

  /** Keeps `reading` with the newest one before it (samples taken at once may end in any order). */
  record(id: string, reading: CpuReading): void {
    const readings = [...(this.readings.get(id) ?? []), reading].sort((a, b) => a.at - b.at);
    this.readings.set(id, readings.slice(-2));
  }

  /** Forgets readings too old to be a base: replicas gone, or not sampled for a while. */
  prune(now: number): void {
    for (const [id, readings] of this.readings) {
      const fresh = readings.filter((r) => now - r.at <= MAX_AGE_MS);
      if (fresh.length) this.readings.set(id, fresh);
      else this.readings.delete(id);
    }
  }
}
