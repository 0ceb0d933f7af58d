/**
 * What the items of one page of a list may take as JSON. A Lambda's answer may be at most 6 MB, and hono/aws-lambda
 * puts a JSON body in it as a string, which can double it (each `"` and `\` escaped again). A count alone bounds no
 * page: as JSON a control character in an app's env takes 6 bytes, and a tenant's billing report a line per app.
 */
export const PAGE_JSON_BYTES = 2.5 * 1024 * 1024;

/** How many of `items`, from the first, fit in PAGE_JSON_BYTES as JSON; the first always does. */
export function countWithinPageBytes(items: readonly unknown[]): number {
  let bytes = 0;
  for (const [index, item] of items.entries()) {
    bytes += Buffer.byteLength(JSON.stringify(item));
    if (index > 0 && bytes > PAGE_JSON_BYTES) return index;
  }
  return items.length;
}
