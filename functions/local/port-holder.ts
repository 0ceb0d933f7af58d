import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { listenersOf } from '../adapters/linux/tcp-listeners.ts';

/** How much of a command line a message quotes. */
const COMMAND_CHARS = 120;

/** What `read` returns, or undefined where it throws: /proc's entries come and go, another user's are closed. */
function whatCanBeRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The inodes of the sockets listening on TCP `port`, at any address, from Linux's /proc/net/tcp and tcp6. */
const listeningOn = (port: number) =>
  new Set((listenersOf('/proc/net') ?? []).filter((l) => l.port === port).map((l) => l.inode));

function commandLineOf(pid: string): string {
  const words = (whatCanBeRead(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ?? '').split('\0');
  const line = words.filter(Boolean).join(' ');
  return line.length > COMMAND_CHARS ? `${line.slice(0, COMMAND_CHARS - 1)}…` : line;
}

/**
 * The process listening on TCP `port`, as `pid 1234 (python3 -m http.server 5000)`, where Linux's /proc tells it: a
 * process's sockets are open to its own user and to root. Undefined elsewhere, and when none can be told.
 */
export function portHolder(port: number): string | undefined {
  const sockets = listeningOn(port);
  if (!sockets.size) return undefined;
  for (const pid of whatCanBeRead(() => readdirSync('/proc')) ?? []) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of whatCanBeRead(() => readdirSync(`/proc/${pid}/fd`)) ?? []) {
      const inode = /^socket:\[(\d+)\]$/.exec(
        whatCanBeRead(() => readlinkSync(`/proc/${pid}/fd/${fd}`)) ?? '',
      )?.[1];
      if (inode && sockets.has(inode)) return `pid ${pid} (${commandLineOf(pid)})`;
    }
  }
  return undefined;
}
