/** `fn` over `items` with at most `limit` calls in flight, results in order. */
export async function mapWithLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** What mapEachWithLimit made: the results of the items that did not fail, in order, and those that did. */
export interface EachResult<T, R> {
  results: R[];
  failures: { item: T; error: unknown }[];
}

/**
 * `fn` over `items` as mapWithLimit does, but an item that fails holds up none of the others (a job's tenants or apps:
 * one that keeps failing must not starve the rest): their results, and each item that failed with its error.
 */
export async function mapEachWithLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<EachResult<T, R>> {
  const failures: EachResult<T, R>['failures'] = [];
  const settled = await mapWithLimit(items, limit, (item) =>
    fn(item).then(
      (result) => ({ result }),
      (error: unknown) => {
        failures.push({ item, error });
        return undefined;
      },
    ),
  );
  return { results: settled.flatMap((s) => (s ? [s.result] : [])), failures };
}
