/**
 * Waits `ms` before something is read again (a followed log, a deployment waited for), cut short when `signal` aborts
 * (the client left, or the transport's deadline came); true unless it did.
 */
export async function waitUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
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
