/**
 * Waits `ms` before a followed log is read again, cut short when `signal` aborts (the client left, or the transport's
 * deadline came); true while the follow goes on.
 */
export async function waitForMoreLines(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
  return !signal?.aborted;
}
