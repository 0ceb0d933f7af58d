import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * When process `pid` started, in clock ticks after the machine's boot (field 22 of Linux's /proc/<pid>/stat); undefined
 * where there is no /proc. With its pid it names one process, where a pid alone is used again by the next ones.
 */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces, count from the third.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
  } catch {
    return undefined;
  }
}

/**
 * The pid a lock names, while its process still runs: the pid does, and, where the lock and /proc both tell when it
 * started (a lock of an earlier Berth names a pid alone), it is the process that started then — not one given the pid
 * again after a reboot, or after a container's restart, whose pids start from 1 again.
 */
function stillRuns(lock: string): number | undefined {
  const [pidText, start] = lock.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!running(pid)) return undefined;
  const now = start === undefined ? undefined : startOf(pid);
  return now === undefined || now === start ? pid : undefined;
}

/**
 * Takes `file` for this process by writing its pid there, and when it started; one left by a process that is gone
 * (see stillRuns) is taken over. While its process runs, throws `taken(owner)`. Returns the release, which removes it.
 */
function lockFile(file: string, taken: (owner: number) => string): () => void {
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(file, `${[process.pid, startOf(process.pid)].filter(Boolean).join(' ')}\n`, {
        flag: 'wx',
      });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1) throw err;
    }
    const owner = stillRuns(readFileSync(file, 'utf8'));
    if (owner !== undefined) throw new Error(taken(owner));
    rmSync(file, { force: true });
  }
}

/**
 * Takes the data directory for this process, so that a second `npm start` on it stops before it touches anything —
 * a second DynamoDB Local over the same files, say. The lock is `<dir>/platform.lock`.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'platform.lock');
  return lockFile(
    file,
    (owner) =>
      `another Berth (pid ${owner}) runs on ${dir}: stop it first, or give this one its own BERTH_DATA_DIR (if pid ${owner} is no Berth, delete ${file})`,
  );
}

/**
 * Takes the installation `name` on this machine: the label of every container the platform runs, by which it adopts
 * them and removes those it has no record of. A second platform with a data directory of its own but the same name
 * would remove the first's containers at every pass, and the first would start them again. The lock is in the
 * system's temporary directory, where every platform on this machine looks.
 */
export function lockInstallation(name: string): () => void {
  const dir = join(tmpdir(), 'berth-installations');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.lock`);
  return lockFile(
    file,
    (owner) =>
      `another Berth (pid ${owner}) runs installation "${name}" on this machine, whose containers this one would take for its own: stop it first, or give this one its own BERTH_TABLE_NAME, which names its installation (if pid ${owner} is no Berth, delete ${file})`,
  );
}
