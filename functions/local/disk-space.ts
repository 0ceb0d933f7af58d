import { statfs } from 'node:fs/promises';

/** Free space below which the platform says its data directory's disk is running out (a pushed layer can take more). */
export const LOW_DISK_BYTES = 512 * 1024 * 1024;

/** How often the data directory's disk is looked at. */
export const DISK_CHECK_PERIOD_MS = 60_000;

const MIB = 1024 * 1024;

/** What an unprivileged process may still write on the filesystem that holds `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return bavail * bsize;
}

type Level = 'room' | 'low' | 'full';

const SAID: Record<Level, string> = {
  room: 'the disk of the data directory has room again',
  low: 'the disk of the data directory is running out: writes to the table and pushes fail once it is full',
  full: 'the disk of the data directory is full: writes to the table and pushes fail until space is freed',
};

const levelOf = (bytes: number): Level => (bytes < MIB ? 'full' : bytes < LOW_DISK_BYTES ? 'low' : 'room');

/**
 * A check of the disk that holds the data directory, which says when it runs low, when it is full (from then on the
 * writes fail) and when it has room again, each once. DynamoDB Local's tables and the registry's layers are written
 * there: on a full disk every write to the table fails, which the API answers 503 `unavailable` while DynamoDB Local
 * tells only of an unknown error, and every push fails. `free` is how many bytes are left (freeBytes).
 */
export function diskSpaceCheck(
  dir: string,
  warn: (message: string, details: Record<string, unknown>) => void,
  free: (dir: string) => Promise<number> = freeBytes,
): () => Promise<void> {
  let last: Level = 'room';
  return async () => {
    const bytes = await free(dir);
    const level = levelOf(bytes);
    if (level !== last) {
      warn(SAID[level], { dir, freeMiB: Math.floor(bytes / MIB), lowBelowMiB: LOW_DISK_BYTES / MIB });
    }
    last = level;
  };
}
