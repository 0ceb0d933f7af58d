import { spawn } from 'node:child_process';
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { answered } from '../adapters/docker/engine-answer.ts';
import { ensureEngineOnThisMachine, ensureLinux } from './engine-network.ts';
import { logSince, openLog } from './log-file.ts';
import { blockMetadataFromContainers } from './metadata-firewall.ts';
import { hasEnded, howItEnded } from './owned-children.ts';
import { canRun, installOrExplain, isRootOnDebian } from './system-packages.ts';

const INSTALL_HINT =
  'Install Docker Engine (https://docs.docker.com/engine/install/, or "apt-get install docker.io" on Debian) and start it, or point DOCKER_HOST at a running engine.';

/** How long a ping may take: the engine answers it at once when it answers at all. */
const PING_ANSWER_MS = 5_000;

/** Why the engine does not answer a ping, or undefined when it does. */
async function pingFailure(docker: Docker): Promise<unknown> {
  try {
    await answered(() => docker.ping(), PING_ANSWER_MS);
    return undefined;
  } catch (err) {
    return err ?? new Error('no answer');
  }
}

/** A socket the engine listens on but this user may not connect to (not in the `docker` group, say). */
const refusedThisUser = (failure: unknown) => (failure as NodeJS.ErrnoException).code === 'EACCES';

/**
 * A Docker Engine that answers, on this Linux machine's network (engine-network.ts). As root on Debian a missing engine
 * is installed (docker.io) and a stopped one is started (overlay2, no traffic between containers on the default
 * bridge, none from them to the VM's metadata address, log in `<logDir>/dockerd.log`) and left running, so app
 * containers outlive the platform process; elsewhere the error names what to install or start, or, when the engine
 * runs but refuses this user, how to be let in. The engine must manage iptables, as it does by default: its rules keep
 * replicas from reaching one another (adapters/docker/replica-network.ts). `docker` is the engine's client: by default
 * the one DOCKER_HOST names, else the local socket.
 */
export async function ensureDockerEngine(logDir: string, docker = new Docker()): Promise<Docker> {
  ensureLinux();
  await ensureAnswering(logDir, docker);
  await ensureEngineOnThisMachine(docker);
  return docker;
}

/** An engine that answers `docker`: started as root on Debian, else named with what to install or start. */
async function ensureAnswering(logDir: string, docker: Docker): Promise<void> {
  const failure = await pingFailure(docker);
  if (failure === undefined) return;
  if (refusedThisUser(failure)) {
    throw new Error(
      `the Docker Engine does not let this user in (${(failure as Error).message}): add the user to the docker group ("sudo usermod -aG docker $USER", then log in again), or run as root.`,
    );
  }
  if (process.env.DOCKER_HOST) {
    throw new Error(
      `Docker Engine at DOCKER_HOST=${process.env.DOCKER_HOST} does not answer. ${INSTALL_HINT}`,
    );
  }
  if (!canRun('dockerd', ['--version'])) installOrExplain(['docker.io'], 'Docker Engine', INSTALL_HINT);
  if (!isRootOnDebian()) {
    throw new Error(
      `Docker Engine is installed but not running: start it (e.g. "sudo systemctl start docker"). ${INSTALL_HINT}`,
    );
  }
  await startDockerd(logDir, async () => (await pingFailure(docker)) === undefined);
  blockMetadataFromContainers();
}

/** How long dockerd has to answer once started. */
const DOCKERD_START_MS = 60_000;

/**
 * Starts dockerd, detached, logging to `<logDir>/dockerd.log`, and resolves once `answering` says the engine answers.
 * If dockerd exits first, the error quotes its last line (why: a pid file an engine killed left, a storage driver
 * the kernel lacks), as it does if it never answers: it is installed, so nothing is to install.
 */
export async function startDockerd(
  logDir: string,
  answering: () => Promise<boolean>,
  startMs = DOCKERD_START_MS,
): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, 'dockerd.log');
  const log = openLog(logPath);
  console.log(`[berth] starting dockerd (log: ${logPath})…`);
  // It outlives this process, so it must not keep a TMPDIR of this run's (runc's exec files go there).
  const { TMPDIR: _ownTmpdir, ...env } = process.env;
  const dockerd = spawn('dockerd', ['--storage-driver=overlay2', '--icc=false'], {
    env,
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  });
  // Not started at all (not executable, no process to be had): its exit code is then set too, ending the wait.
  let notStarted: Error | undefined;
  dockerd.once('error', (err) => {
    notStarted = err;
  });
  dockerd.unref();
  closeSync(log.fd);
  const deadline = Date.now() + startMs;
  while (Date.now() < deadline) {
    if (await answering()) return;
    if (hasEnded(dockerd)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const lastLine = logSince(logPath, log.startsAt).trim().split('\n').at(-1);
  const said = lastLine ? `: ${lastLine}` : '';
  const what = notStarted
    ? `dockerd could not be started (${notStarted.message})`
    : hasEnded(dockerd)
      ? `dockerd ${howItEnded(dockerd)}`
      : `dockerd did not answer within ${startMs / 1000} s`;
  throw new Error(`${what}${said} (log: ${logPath})`);
}
