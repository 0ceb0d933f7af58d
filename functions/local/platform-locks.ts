import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
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
    try {
      rmSync(file, { force: true });
    } catch (err) {
      throw new Error(
        `${file} is the lock of a Berth that is gone, which this user may not remove (${(err as Error).message}): as its owner or root, delete it`,
      );
    }
  }
}

/**
 * Takes the data directory for this process, so that a second `npm start` on it stops before it touches anything —
 * a second DynamoDB Local over the same files, say. The lock is `<dir>/platform.lock`.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  // One a start as root made (`sudo npm start`, which installs what is missing) is root's.
  writableOr(
    dir,
    (reason) =>
      `the data directory ${dir} is another user's (uid ${statSync(dir).uid}), and this one may not write there (${reason}): as root, run "chown -R ${userInfo().username} ${dir}" to make it this user's, or give this one its own BERTH_DATA_DIR`,
  );
  const file = join(dir, 'platform.lock');
  return lockFile(
    file,
    (owner) =>
      `another Berth (pid ${owner}) runs on ${dir}: stop it first, or give this one its own BERTH_DATA_DIR (if pid ${owner} is no Berth, delete ${file})`,
  );
}

/** Mode of a directory every user may add files to, and remove only their own from, as /tmp. */
const SHARED_DIRECTORY_MODE = 0o1777;

/**
 * Makes `dir` (if need be) and lets every user add files to it, as the platforms of all the users of one Docker Engine
 * take their locks there. One another user made, that this user may not write to (an earlier Berth made it the
 * user's alone), is told with how to mend it.
 */
function shareWithEveryUser(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const { uid, mode } = statSync(dir);
  if (uid === process.getuid?.() && (mode & 0o7777) !== SHARED_DIRECTORY_MODE)
    chmodSync(dir, SHARED_DIRECTORY_MODE);
  writableOr(
    dir,
    (reason) =>
      `${dir}, where each Berth on this machine takes its installation's lock, is another user's, and this one may not write there (${reason}): as its owner or root, run "chmod 1777 ${dir}"`,
  );
}

/** Throws `refused(why)` unless this user may write to `dir`. */
function writableOr(dir: string, refused: (why: string) => string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new Error(refused((err as Error).message));
  }
}

/**
 * Takes the installation `name` on this machine: the label of every container the platform runs, by which it adopts
 * them and removes those it has no record of. A second platform with a data directory of its own but the same name
 * would remove the first's containers at every pass, and the first would start them again. The lock is in the
 * system's temporary directory, where every platform on this machine looks.
 */
export function lockInstallation(name: string): () => void {
  const dir = join(tmpdir(), 'berth-installations');
  shareWithEveryUser(dir);
  const file = join(dir, `${name}.lock`);
  return lockFile(
    file,
    (owner) =>
      `another Berth (pid ${owner}) runs installation "${name}" on this machine, whose containers this one would take for its own: stop it first, or give this one its own BERTH_TABLE_NAME, which names its installation (if pid ${owner} is no Berth, delete ${file})`,
  );
}
