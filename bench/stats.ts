/** Percentile of already-sorted numbers (nearest rank). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Runs `task(worker, i)` `total` times over `concurrency` workers and returns each call's duration in ms. */
export async function timeConcurrently(
  total: number,
  concurrency: number,
  task: (worker: number, i: number) => Promise<void>,
): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) {
        const i = next++;
        const start = process.hrtime.bigint();
        await task(worker, i);
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }),
  );
  return samples;
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;
