import type { ChildProcess } from 'node:child_process';

/** How long a child the platform started gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;

/** A stop for a child process: SIGTERM, SIGKILL after the grace period, resolved once it has exited. */
export function stopperOf(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
}
