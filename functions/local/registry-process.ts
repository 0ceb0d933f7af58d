import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logSince, openLog } from './log-file.ts';
import { hasEnded, howItEnded, type OwnedProcess, ownedProcess, spawnOwned } from './owned-children.ts';
import { portHolder } from './port-holder.ts';
import { ensureRegistryBinary } from './registry-binary.ts';
import { removeUnfinishedUploads } from './registry-uploads.ts';

export const REGISTRY_SERVICE = 'berth-registry';
export const TOKEN_ISSUER = 'berth';

export interface RegistryProcessOptions {
  dir: string;
  port: number;
  /** Berth's token endpoint (the realm docker is sent to). */
  realm: string;
  /** Where the registry reports pushes. */
  notifyUrl: string;
  notifySecret: string;
  certificatePath: string;
}

/**
 * The distribution registry's configuration: token auth against Berth, push notifications to Berth, and uploads left
 * unfinished removed after an hour rather than a week (a push to it over loopback takes minutes at most).
 */
function registryConfig(options: RegistryProcessOptions, httpSecret: string): string {
  return `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(join(options.dir, 'data'))}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: true
      age: 1h
      interval: 1h
      dryrun: false
http:
  addr: 127.0.0.1:${options.port}
  secret: ${JSON.stringify(httpSecret)}
auth:
  token:
    realm: ${JSON.stringify(options.realm)}
    service: ${REGISTRY_SERVICE}
    issuer: ${TOKEN_ISSUER}
    rootcertbundle: ${JSON.stringify(options.certificatePath)}
notifications:
  endpoints:
    - name: berth
      url: ${JSON.stringify(options.notifyUrl)}
      headers:
        Authorization: [${JSON.stringify(`Bearer ${options.notifySecret}`)}]
      timeout: 5s
      threshold: 5
      backoff: 1s
`;
}

/** How long the garbage collection at a start may hold up the registry. */
const GARBAGE_COLLECTION_MS = 60_000;

/**
 * Frees the disk a deleted repository's layers and configs still take: the registry deletes manifests, and only its
 * garbage collection, which must run while it is stopped, the blobs that no manifest refers to any more. Every
 * manifest is kept, tagged or not (a revision pins its image by digest). A collection that fails leaves the blobs
 * for the next start, and says why in the registry's log.
 */
async function collectGarbage(binary: string, configPath: string, log: number): Promise<void> {
  const collecting = ownedProcess(
    spawnOwned(binary, ['garbage-collect', configPath], { stdio: ['ignore', log, log] }),
  );
  const timer = setTimeout(() => void collecting.stop(), GARBAGE_COLLECTION_MS);
  await collecting.exited;
  clearTimeout(timer);
}

/**
 * Whether an answer to `/v2/` is this registry's: 401, sending docker to Berth's `realm` for a token. Another server
 * on the port (a registry run on 5000 before, answering 200) is not; this one then failed to listen, and exits.
 */
function asksForBerthsToken(res: Response, realm: string): boolean {
  return (
    res.status === 401 &&
    (res.headers.get('www-authenticate') ?? '').includes(`realm=${JSON.stringify(realm)}`)
  );
}

/** How long a registry has to answer once started. */
const REGISTRY_START_MS = 20_000;

/**
 * Waits until the registry `child` gives `/v2/` on 127.0.0.1:`port` an answer `accepted` takes, within `withinMs`:
 * undefined once it does; else what it was last seen doing — exited (it could not listen, say), killed by a signal,
 * answering otherwise, or not answering — for the error that says it did not start.
 */
export async function notAnswering(
  child: ChildProcess,
  port: number,
  accepted: (res: Response) => boolean,
  withinMs = REGISTRY_START_MS,
): Promise<string | undefined> {
  const deadline = Date.now() + withinMs;
  let last = '/v2/ was not asked';
  while (Date.now() < deadline && !hasEnded(child)) {
    try {
      // Bounded: another process on the port may take the question and never answer.
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (accepted(res)) return undefined;
      last = `/v2/ answered ${res.status}, not as it should`;
    } catch (err) {
      last = `/v2/ got no answer (${causeOf(err)})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!hasEnded(child)) return `it still ran after ${withinMs / 1000} s; ${last}`;
  return `it ${howItEnded(child)}`;
}

/** The innermost reason a fetch failed: `connect ECONNREFUSED 127.0.0.1:5000`, `The operation was aborted`. */
function causeOf(err: unknown): string {
  let inner = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}

/**
 * The last lines a log gained since `offset`, each cut to 300 characters, as an error quotes them: of a Go panic, its
 * message, not the goroutines' stacks that follow it.
 */
function lastLines(path: string, offset: number, count = 3): string {
  const said = logSince(path, offset).split(/^goroutine \d+ \[/m)[0] ?? '';
  const lines = said
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-count)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  return lines.length ? lines.join(' | ') : 'nothing';
}

/**
 * Starts the CNCF distribution registry (2.x, ensureRegistryBinary) on 127.0.0.1 with Berth as its token service,
 * after removing the uploads it left unfinished and collecting its garbage. Resolves once it answers; `stop()` ends it.
 */
export async function startRegistry(options: RegistryProcessOptions): Promise<OwnedProcess> {
  const binary = ensureRegistryBinary();
  const storage = join(options.dir, 'data');
  mkdirSync(storage, { recursive: true });
  const configPath = join(options.dir, 'config.yml');
  writeFileSync(configPath, registryConfig(options, options.notifySecret), { mode: 0o600 });
  const logPath = join(options.dir, 'registry.log');
  const { fd: log, startsAt } = openLog(logPath);
  removeUnfinishedUploads(storage);
  await collectGarbage(binary, configPath, log);
  const child: ChildProcess = spawnOwned(binary, ['serve', configPath], { stdio: ['ignore', log, log] });
  closeSync(log); // the registry has its own copy; a restart opens the log again
  const owned = ownedProcess(child);
  const seen = await notAnswering(child, options.port, (res) => asksForBerthsToken(res, options.realm));
  if (!seen) return owned;
  await owned.stop();
  // A port taken after the platform's start (while a registry that died was to start again) is told here alone.
  const holder = portHolder(options.port);
  throw new Error(
    `the registry did not start${holder ? `: port ${options.port} is held by ${holder}` : ''} (${seen}; it logged: ${lastLines(logPath, startsAt)}); see ${logPath}`,
  );
}
