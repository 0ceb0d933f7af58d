import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { canRun } from './system-packages.ts';

/** How long a child the platform started gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;

let pdeathsig: boolean | undefined;

/** Whether util-linux's `setpriv` is here to have the kernel kill a child when its parent dies (Linux only). */
function canTieToParent(): boolean {
  pdeathsig ??= process.platform === 'linux' && canRun('setpriv', ['--version']);
  return pdeathsig;
}

/**
 * Starts a child that does not outlive the platform (DynamoDB Local, the registry): on Linux the kernel kills it when
 * the platform dies, even by SIGKILL — `setpriv --pdeathsig KILL` sets that and then execs the command in place, so
 * the pid is the command's. Elsewhere it is a plain child, which only a clean stop ends.
 *
 * It runs in a process group of its own, out of reach of the terminal's Ctrl-C (a SIGINT to the platform's whole
 * group): the platform stops its children itself, last of all, after the work that still writes to the table — which
 * would otherwise be gone mid-write, and be started again as if it had crashed.
 */
export function spawnOwned(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const own = { ...options, detached: true };
  return canTieToParent()
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], own)
    : spawn(command, args, own);
}

/** Whether `child` has ended: exited with a code, or killed by a signal, which leaves it no exit code. */
export const hasEnded = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** How `child`, once ended, ended, for a message: `exited with code 1`, `was killed by SIGKILL`. */
export const howItEnded = (child: ChildProcess) =>
  child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;

/**
 * A child the platform runs: `exited` resolves once it has exited, for whatever reason, with how, for the platform's
 * output (`was killed by SIGKILL`, as the kernel's OOM killer kills; `exited with code 1`).
 */
export interface OwnedProcess {
  exited: Promise<string>;
  /** SIGTERM, SIGKILL after the grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

export function ownedProcess(child: ChildProcess): OwnedProcess {
  const exited = new Promise<string>((resolve) => {
    child.once('exit', () => resolve(howItEnded(child)));
    // One that could not be started (no process to be had, its directory gone) has no exit: it ended before it began,
    // and says so here, where an 'error' without a listener would end the platform. Any other error (a signal that
    // could not be sent) leaves it running.
    child.on('error', () => {
      if (child.pid === undefined) resolve('could not be started');
    });
  });
  return {
    exited,
    async stop() {
      if (hasEnded(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
