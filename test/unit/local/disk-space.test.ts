import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { diskSpaceCheck, freeBytes, LOW_DISK_BYTES } from '../../../functions/local/disk-space.ts';

const MIB = 1024 * 1024;

describe("the data directory's disk", () => {
  it('is said to run out, to be full and to have room again, each once as the free space passes its threshold', async () => {
    const said: [string, Record<string, unknown>][] = [];
    let free = 10 * LOW_DISK_BYTES;
    const check = diskSpaceCheck(
      '/data',
      (message, details) => said.push([message, details]),
      async () => free,
    );
    const details = (freeMiB: number) => ({ dir: '/data', freeMiB, lowBelowMiB: LOW_DISK_BYTES / MIB });
    await check();
    expect(said).toEqual([]);
    for (const bytes of [LOW_DISK_BYTES - 3 * MIB, LOW_DISK_BYTES - 4 * MIB, MIB / 2, 0]) {
      free = bytes;
      await check();
    }
    expect(said).toEqual([
      [
        'the disk of the data directory is running out: writes to the table and pushes fail once it is full',
        details(LOW_DISK_BYTES / MIB - 3),
      ],
      [
        'the disk of the data directory is full: writes to the table and pushes fail until space is freed',
        details(0),
      ],
    ]);
    for (const bytes of [5 * MIB, LOW_DISK_BYTES, LOW_DISK_BYTES]) {
      free = bytes;
      await check();
    }
    expect(said.slice(2)).toEqual([
      [
        'the disk of the data directory is running out: writes to the table and pushes fail once it is full',
        details(5),
      ],
      ['the disk of the data directory has room again', details(LOW_DISK_BYTES / MIB)],
    ]);
  });

  it('is said to be full at the first check when it starts so', async () => {
    const said: string[] = [];
    await diskSpaceCheck(
      '/data',
      (message) => said.push(message),
      async () => 0,
    )();
    expect(said).toEqual([
      'the disk of the data directory is full: writes to the table and pushes fail until space is freed',
    ]);
  });

  it('has as many bytes free as df says are available to an unprivileged user', async () => {
    const dir = tmpdir();
    // POSIX df: a header, then the filesystem, its 1024-byte blocks, used, available, capacity, mount point.
    const available = Number(
      execFileSync('df', ['-Pk', dir], { encoding: 'utf8' }).trim().split('\n')[1]?.split(/\s+/)[3],
    );
    expect(available).toBeGreaterThan(0);
    // Whatever else writes to the disk between the two reads moves the figure a little.
    expect(Math.abs((await freeBytes(dir)) - available * 1024)).toBeLessThan(64 * MIB);
  });
});
