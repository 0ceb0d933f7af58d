import { readFileSync } from 'node:fs';

/**
 * When this machine last booted, in epoch milliseconds, from the kernel's `btime` in /proc/stat (whole seconds);
 * undefined where it cannot be read (not Linux).
 */
export function bootTime(procStat = '/proc/stat'): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync(procStat, 'utf8'))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000;
  } catch {
    return undefined;
  }
}
