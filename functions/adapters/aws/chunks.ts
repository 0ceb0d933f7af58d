import { mapWithLimit } from '../../core/map-with-limit.ts';

/** `items` in consecutive batches of at most `size`, for APIs that cap how many they take per call. */
export const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

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
