import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDbHttp } from '../../functions/adapters/dynamodb/dynamodb-http.ts';
import { localDynamoDbClient } from '../../functions/local/dynamodb-local.ts';
import { hasEnded } from '../../functions/local/owned-children.ts';
import { workerPort } from './worker-port.ts';

/** A TypeScript entry point run by tsx as a child process, with its output kept for failure messages. */
export function startTsProcess(
  entry: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  return withOutput(
    spawn(process.execPath, ['--import', 'tsx', entry], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** A child process with what it prints kept for failure messages. */
function withOutput(child: ChildProcess): { child: ChildProcess; output: () => string } {
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return { child, output: () => output };
}

/**
 * `npm start` as package.json says it (`exec node --import tsx <entry>`), its entry run by this Node as a child
 * process; `startThroughNpm` runs `npm start` itself.
 */
export function startPlatform(env: Record<string, string>) {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } })
    .scripts;
  const entry = /^exec node --import tsx (\S+)$/.exec(scripts.start)?.[1];
  if (!entry) throw new Error(`npm start is no longer "exec node --import tsx <entry>": ${scripts.start}`);
  return startTsProcess(entry, env);
}

/** `npm start` itself, as README has a user run it: npm, the shell it runs the script in, and the platform. */
export function startThroughNpm(env: Record<string, string>) {
  return withOutput(
    spawn('npm', ['start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

/** Waits until the platform (or another process) prints `marker`, or fails with its output. */
export async function waitForReady(
  platform: { child: ChildProcess; output: () => string },
  timeoutMs = 90_000,
  marker = '[berth] ready',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (platform.output().includes(marker)) return;
    if (hasEnded(platform.child)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the platform did not become ready:\n${platform.output()}${logsNamedIn(platform.output())}`,
  );
}

/** The end of each log a platform's output points at ("see <path>.log"), which a run's clean-up would remove. */
export function logsNamedIn(output: string): string {
  return [...output.matchAll(/see (\S+\.log)/g)]
    .map(([, path]) => {
      try {
        return `\n--- ${path}:\n${readFileSync(path ?? '', 'utf8')
          .split('\n')
          .slice(-40)
          .join('\n')}`;
      } catch (err) {
        return `\n--- ${path}: ${(err as Error).message}`;
      }
    })
    .join('');
}

/** `fetch` from a running platform; a request it cannot answer fails with what the platform printed. */
export async function fetchFrom(
  platform: { child: ChildProcess; output: () => string },
  url: string,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const { exitCode, signalCode } = platform.child;
    const state = hasEnded(platform.child) ? `ended with ${signalCode ?? exitCode}` : 'running';
    throw new Error(
      `${init?.method ?? 'GET'} ${url} failed (${err}); the platform, ${state}, printed:\n${platform.output()}`,
      {
        cause: err,
      },
    );
  }
}

/** Resolves with the child's exit code (null when a signal ended it) once it has ended, at once if it has. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (hasEnded(child)) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

export interface PlatformEnv {
  dataDir: string;
  api: string;
  apiPort: number;
  ingressPort: number;
  registryPort: number;
  env: Record<string, string>;
}

/** Environment for one platform on free ports with its own data directory and table. */
export async function platformEnv(extra: Record<string, string> = {}): Promise<PlatformEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-platform-'));
  const [apiPort, ingressPort, registryPort] = [await workerPort(), await workerPort(), await workerPort()];
  return {
    dataDir,
    api: `http://127.0.0.1:${apiPort}`,
    apiPort,
    ingressPort,
    registryPort,
    env: {
      BERTH_DATA_DIR: dataDir,
      BERTH_PORT: String(apiPort),
      BERTH_INGRESS_PORT: String(ingressPort),
      BERTH_REGISTRY_PORT: String(registryPort),
      BERTH_TABLE_NAME: `e2e-${apiPort}`,
      ...extra,
    },
  };
}

/** Starts the platform in `env` and waits until it is ready. */
export async function runPlatform(env: PlatformEnv) {
  const platform = startPlatform(env.env);
  await waitForReady(platform);
  // The platform keeps a key it generated in its data directory; one it was given stays where it came from.
  const adminKey = env.env.BERTH_ADMIN_KEY ?? readFileSync(join(env.dataDir, 'admin-key'), 'utf8').trim();
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (hasEnded(platform.child)) return platform.child.exitCode;
    platform.child.kill(signal);
    return exited(platform.child);
  };
  return { ...platform, adminKey, stop };
}

/** A client of the DynamoDB Local a running platform started, as the platform reaches it, and its table's name. */
export function platformTable(
  platform: { output: () => string },
  env: PlatformEnv,
): { dynamodb: DynamoDbHttp; tableName: string } {
  const endpoint = /\[berth\] DynamoDB +(http:\/\/\S+)/.exec(platform.output())?.[1];
  if (!endpoint)
    throw new Error(`the platform did not say where DynamoDB Local listens:\n${platform.output()}`);
  const accessKeyId = readFileSync(join(env.dataDir, 'dynamodb', 'access-key-id'), 'utf8').trim();
  return {
    dynamodb: localDynamoDbClient({ endpoint, accessKeyId }),
    tableName: env.env.BERTH_TABLE_NAME ?? '',
  };
}
