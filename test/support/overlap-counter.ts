/**
 * Wraps `fn` so that its calls overlap (each waits `delayMs` first) and counts the most of them in flight at once:
 * how a test sees that a job or adapter keeps to its concurrency limit.
 *
 * @example
 * const reads = overlapCounter(store.listApps.bind(store));
 * store.listApps = reads.call;
 * // … run the job …
 * expect(reads.most).toBe(8);
 */
export function overlapCounter<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  delayMs: number | ((...args: A) => number) = 2,
) {
  let inFlight = 0;
  const counter = {
    most: 0,
    async call(...args: A): Promise<R> {
      inFlight += 1;
      counter.most = Math.max(counter.most, inFlight);
      try {
        await new Promise((resolve) =>
          setTimeout(resolve, typeof delayMs === 'number' ? delayMs : delayMs(...args)),
        );
        return await fn(...args);
      } finally {
        inFlight -= 1;
      }
    },
  };
  return counter;
}
