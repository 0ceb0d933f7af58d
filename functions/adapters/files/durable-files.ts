import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Asks the kernel to put what `path` (a file or a directory) holds on the disk before it returns. */
function syncToDisk(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Gives the file at `from` the name `to` so that a power cut leaves either what `to` held before or all of `from`: its
 * content reaches the disk before the rename, and the rename before this returns. A file written and renamed without
 * that can come back empty after a crash (ext4's delayed allocation), where the platform's keys live.
 */
export function moveDurably(from: string, to: string): void {
  syncToDisk(from);
  renameSync(from, to);
  syncToDisk(dirname(to));
}

/** A name beside `file` for what will become it, unique to this write. */
export const pendingNameFor = (file: string) =>
  join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.pending`);

/**
 * Writes `content` to `file` (mode 0600) all or nothing, as moveDurably tells: through a file of its own beside it,
 * removed should the write fail.
 */
export function writeFileDurably(file: string, content: string): void {
  const pending = pendingNameFor(file);
  try {
    const fd = openSync(pending, 'wx', 0o600);
    try {
      writeFileSync(fd, content);
    } finally {
      closeSync(fd);
    }
    moveDurably(pending, file);
  } finally {
    rmSync(pending, { force: true });
  }
}
