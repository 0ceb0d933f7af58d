import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether process `pid` runs (one of another user's runs too: the kernel refuses to signal it). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process, so that a second `npm start` on it stops before it touches anything —
 * a second DynamoDB Local over the same files, say. The lock is `<dir>/platform.lock`, holding the owner's pid; one
 * left by a platform that died (its pid no longer runs) is taken over. Returns the release, which removes it.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'platform.lock');
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1) throw err;
    }
    const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (running(owner)) {
      throw new Error(
        `another Berth (pid ${owner}) runs on ${dir}: stop it first, or give this one its own BERTH_DATA_DIR (if pid ${owner} is no Berth, delete ${file})`,
      );
    }
    rmSync(file, { force: true });
  }
}
