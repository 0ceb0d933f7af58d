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
 * The last CPU reading of each replica sampled, so that the next sample needs one reading from Docker (its one-shot
 * answer, which waits for the engine's next reading: up to 1 s) instead of its pair a second apart (up to 2 s):
 * whoever samples again — a dashboard, the autoscaler — waits half as long and gets the CPU over the span since.
 */
export class CpuReadings {
  private readonly readings = new Map<string, CpuReading>();

  /** The reading a sample of `id` taken `now` is measured against, if one is usable. */
  baseFor(id: string, now: number): CpuReading | undefined {
    const reading = this.readings.get(id);
    const age = reading ? now - reading.at : Number.POSITIVE_INFINITY;
    return age >= MIN_SPAN_MS && age <= MAX_AGE_MS ? reading : undefined;
  }

  /** Keeps `reading` as the next base, unless the one kept is less than the shortest span older (it stays). */
  record(id: string, reading: CpuReading): void {
    const kept = this.readings.get(id);
    if (!kept || reading.at - kept.at >= MIN_SPAN_MS) this.readings.set(id, reading);
  }

  /** Forgets readings too old to be a base: replicas gone, or not sampled for a while. */
  prune(now: number): void {
    for (const [id, reading] of this.readings) if (now - reading.at > MAX_AGE_MS) this.readings.delete(id);
  }
}
