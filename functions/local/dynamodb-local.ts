import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { DynamoDbHttp } from '../adapters/dynamodb/dynamodb-http.ts';
import { writeFileDurably } from '../adapters/files/durable-files.ts';
import { freePort } from './free-port.ts';
import { ensureJava } from './java.ts';
import { hasEnded, howItEnded, type OwnedProcess, ownedProcess, spawnOwned } from './owned-children.ts';

/** Where a DynamoDB Local answers, and the access key of the database that holds the tables. */
export interface DynamoDbLocalAddress {
  endpoint: string;
  accessKeyId: string;
}

export interface DynamoDbLocal extends OwnedProcess, DynamoDbLocalAddress {
  port: number;
}

/** The region every local client names: with the access key, it picks the database (see startDynamoDbLocal). */
const REGION = 'local';
/** The access key of a database every key shares (`-sharedDb`), and of an instance run by someone else. */
export const SHARED_ACCESS_KEY = 'local';
/** What DynamoDB Local names the one database with `-sharedDb`; others are `<access key>_<region>.db`. */
const SHARED_DB_FILE = 'shared-local-instance.db';

/** An access key this platform makes: 40 hex digits. */
const OWN_ACCESS_KEY = /^[0-9a-f]{40}$/;
/** DynamoDB Local's file of the database an access key of OWN_ACCESS_KEY's form names, in the local region. */
const OWN_DB_FILE = new RegExp(`^([0-9a-f]{40})_${REGION}\\.db$`);

/**
 * The access key the tables in files under `dbPath` are kept under: made on the first start (40 hex digits, in
 * `<dbPath>/access-key-id`, mode 0600) and kept with them, in a directory only its owner may read. A database that
 * an earlier Berth kept under `-sharedDb` becomes this key's. A file that holds no key (empty, as a power cut can
 * leave one) is mended from the name of the one database beside it, rather than a new, empty database being opened
 * beside the tables: where there is none, a key is made; where there are several, the start stops, naming them.
 */
function dbPathAccessKey(dbPath: string): string {
  mkdirSync(dbPath, { recursive: true });
  // DynamoDB Local makes its files readable by all; the directory keeps other users of the machine out.
  chmodSync(dbPath, 0o700);
  const file = join(dbPath, 'access-key-id');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  const accessKeyId =
    kept !== undefined && OWN_ACCESS_KEY.test(kept) ? kept : keyOfTheDatabaseIn(dbPath, file);
  const own = join(dbPath, `${accessKeyId}_${REGION}.db`);
  if (accessKeyId !== kept) {
    writeFileDurably(file, accessKeyId);
    // Not at a first start, where there was no file: one that held no key is told, and how it was mended.
    if (kept !== undefined) {
      console.warn(
        `[berth] ${file} held no key (as a power cut can leave it): ${existsSync(own) ? `taken again from the name of the tables' database, ${basename(own)}` : 'no database is beside it, so a new one was made'}`,
      );
    }
  }
  if (existsSync(join(dbPath, SHARED_DB_FILE)) && !existsSync(own))
    renameSync(join(dbPath, SHARED_DB_FILE), own);
  return accessKeyId;
}

/** The access key of the one database under `dbPath` (see dbPathAccessKey), or a new one where there is none. */
function keyOfTheDatabaseIn(dbPath: string, file: string): string {
  const keys = readdirSync(dbPath).flatMap((name) => OWN_DB_FILE.exec(name)?.[1] ?? []);
  if (keys.length > 1) {
    throw new Error(
      `${file} names none of the databases in ${dbPath} (${keys.map((key) => `${key}_${REGION}.db`).join(', ')}): write into it the 40 hex digits of the one that holds the tables`,
    );
  }
  return keys[0] ?? randomBytes(20).toString('hex');
}

export interface DynamoDbLocalOptions {
  /** Keep tables in files under this directory; without it, in memory. */
  dbPath?: string;
  port?: number;
  /** How long to wait for the first successful request. */
  readyTimeoutMs?: number;
}

/** DynamoDB Local's main, bound to 127.0.0.1: see the file. */
const LOOPBACK_LAUNCHER = join(import.meta.dirname, 'LoopbackDynamoDbLocal.java');

/** The DynamoDB Local jar shipped in the npm package amplify-dynamodb-simulator. */
function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export function localDynamoDbClient({ endpoint, accessKeyId }: DynamoDbLocalAddress): DynamoDbHttp {
  return new DynamoDbHttp({
    endpoint,
    region: REGION,
    credentials: async () => ({ accessKeyId, secretAccessKey: 'local' }),
    maxAttempts: 2,
    attemptTimeoutMs: 5000,
  });
}

/**
 * What SQLite says of a database file it cannot read, which DynamoDB Local answers every request for with an unknown
 * error: one a power cut or a full disk left half written.
 */
const DAMAGED_DATABASE = /database disk image is malformed|file is not a database/;

/** Why the tables in `dbPath` cannot be read, and what to do. */
const damagedTables = (dbPath: string, said: string) =>
  `the tables in ${dbPath} are damaged (SQLite: ${said}), as a power cut or a full disk while DynamoDB Local wrote can leave them: restore the directory from a backup, or move it aside to start with no tenants, apps or usage`;

/**
 * Resolves once DynamoDB Local answers. One that exits first (its port taken, say) fails the wait at once, with its
 * exit code and its last words, even while a request to its port waits for an answer (from whatever holds the port);
 * so does one whose files under `dbPath` SQLite cannot read, which answers every request with an error.
 */
async function waitUntilReady(
  address: DynamoDbLocalAddress,
  child: ChildProcess,
  exited: Promise<string>,
  timeoutMs: number,
  output: () => string,
  dbPath?: string,
) {
  const client = localDynamoDbClient(address);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasEnded(child)) throw new Error(`DynamoDB Local ${howItEnded(child)}:\n${output()}`);
    try {
      const answered = client.call('ListTables', { Limit: 1 }).then(() => true);
      if (await Promise.race([answered, exited.then(() => false)])) return;
    } catch (err) {
      const damaged = dbPath && DAMAGED_DATABASE.exec(output());
      if (dbPath && damaged) throw new Error(damagedTables(dbPath, damaged[0]));
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${err}\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Starts DynamoDB Local (Java 17, telemetry off) and resolves once it answers. `stop()` ends it; with `dbPath` its
 * tables survive a restart.
 *
 * It listens on 127.0.0.1 only (LoopbackDynamoDbLocal.java), out of the app containers' reach, and takes any
 * credentials. It keeps one database per access key and region, though: with `dbPath` (the platform's own instance)
 * the tables are kept under a secret access key (dbPathAccessKey), and another user of the machine who comes with
 * another key finds an empty database. In memory (the tests' instance, whose Lambda handlers come with credentials
 * and a region of their own), every key shares one database (`-sharedDb`).
 *
 * @example
 * const ddb = await startDynamoDbLocal({ dbPath: '.berth/dynamodb' });
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  ensureJava();
  const port = options.port ?? (await freePort());
  const dir = jarDirectory();
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory', '-sharedDb'];
  const accessKeyId = options.dbPath ? dbPathAccessKey(options.dbPath) : SHARED_ACCESS_KEY;
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
      '-cp',
      [join(dir, 'DynamoDBLocal.jar'), join(dir, 'DynamoDBLocal_lib', '*')].join(delimiter),
      LOOPBACK_LAUNCHER,
      '-port',
      String(port),
      ...storage,
      '-disableTelemetry',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its jar (1.25) parses -disableTelemetry and reads only this: without it, each start asks Cognito in us-east-1
      // for an identity to send Pinpoint events with.
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    },
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
    await waitUntilReady(
      { endpoint, accessKeyId },
      child,
      owned.exited,
      options.readyTimeoutMs ?? 30_000,
      () => output,
      options.dbPath,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, accessKeyId, port, exited: owned.exited, stop };
}
