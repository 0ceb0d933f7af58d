import { closeSync, fstatSync, openSync, readSync, renameSync, statSync } from 'node:fs';

/** How large a child process's log may have grown before a start moves it aside. */
const LOG_ROTATE_BYTES = 16 * 1024 * 1024;

/**
 * Opens the log a child process (dockerd, the registry) appends to for one start. One that has grown past
 * `rotateBytes` is moved to `<path>.1` first, in place of the one before it, so a machine that runs the platform for
 * months keeps at most two logs of about that size each and the last start's lines. Returns the descriptor to hand to
 * the child (close it once spawned) and where this start's lines begin.
 */
export function openLog(path: string, rotateBytes = LOG_ROTATE_BYTES): { fd: number; startsAt: number } {
  if (sizeOf(path) > rotateBytes) renameSync(path, `${path}.1`);
  const fd = openSync(path, 'a');
  return { fd, startsAt: fstatSync(fd).size };
}

/** What `path` holds from `offset` on: the lines one start wrote. */
export function logSince(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const text = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
    readSync(fd, text, 0, text.length, offset);
    return text.toString();
  } finally {
    closeSync(fd);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
