import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './free-port.ts';
import { ensureJava } from './java.ts';
import { type OwnedProcess, ownedProcess, spawnOwned } from './owned-children.ts';

export interface DynamoDbLocal extends OwnedProcess {
  endpoint: string;
  port: number;
}

export interface DynamoDbLocalOptions {
  /** Keep tables in files under this directory; without it, in memory. */
  dbPath?: string;
  port?: number;
  /** How long to wait for the first successful request. */
  readyTimeoutMs?: number;
}

/** The DynamoDB Local jar shipped in the npm package amplify-dynamodb-simulator. */
function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
  });
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
) {
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${err}\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local (Java 17, `-disableTelemetry`) and resolves once it answers. `stop()` ends it; with
 * `dbPath` its tables survive a restart.
 *
 * @example
 * const ddb = await startDynamoDbLocal({ dbPath: '.berth/dynamodb' });
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  ensureJava();
  const port = options.port ?? (await freePort());
  const dir = jarDirectory();
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  // It unpacks its SQLite library into java.io.tmpdir at every start and deletes it only on a clean exit, so it gets
  // a directory of its own, which stop() removes: one killed with the platform leaves no copy in /tmp. With dbPath
  // that is beside the tables, where the next start clears what a killed one left.
  const scratch = options.dbPath
    ? join(options.dbPath, '.tmp')
    : mkdtempSync(join(tmpdir(), 'berth-dynamodb-'));
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const child = spawnOwned(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      `-Djava.io.tmpdir=${scratch}`,
      '-Xmx512m',
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      ...storage,
      '-sharedDb',
      '-disableTelemetry',
    ],
    // Its own cwd: DynamoDB Local writes a metadata file there.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.dbPath ?? scratch },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const endpoint = `http://127.0.0.1:${port}`;
  const owned = ownedProcess(child);
  const stop = async () => {
    await owned.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(endpoint, child, options.readyTimeoutMs ?? 30_000, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, port, exited: owned.exited, stop };
}
