import { chunks } from '../../core/chunks.ts';
import { mapWithLimit } from '../../core/map-with-limit.ts';

/** At most this many calls to one AWS API from one adapter at once: a larger burst is what gets throttled. */
export const CALLS_IN_FLIGHT = 8;

/**
 * `call` over `items` in batches of at most `size` (the API's cap per call), at most CALLS_IN_FLIGHT batches at once,
 * results flattened in order.
 */
export async function inBatches<T, R>(
  items: T[],
  size: number,
  call: (batch: T[]) => Promise<R[]>,
): Promise<R[]> {
  return (await mapWithLimit(chunks(items, size), CALLS_IN_FLIGHT, call)).flat();
}
