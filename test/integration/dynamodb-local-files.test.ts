import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { executablesFirstOnPath } from '../support/fake-executables.ts';

const unpackedLibrary = /^sqlite-.*libsqlite4java\.so$/;

/** The scratch directories of DynamoDB Local made in the temporary directory since it held `before`. */
const scratchMadeSince = (before: ReadonlySet<string>) =>
  readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith('berth-dynamodb-'));

describe('the files DynamoDB Local unpacks at every start', () => {
  it('go to a directory beside its tables, which the next start clears of what a killed one left, and stop removes', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-files-'));
    const scratch = join(dbPath, '.tmp');
    mkdirSync(scratch);
    writeFileSync(join(scratch, 'sqlite-0-left-by-a-killed-one-libsqlite4java.so'), '');

    const dynamodb = await startDynamoDbLocal({ dbPath });
    const unpacked = readdirSync(scratch);
    expect(unpacked).toHaveLength(1);
    expect(unpacked[0]).toMatch(unpackedLibrary);
    expect(unpacked[0]).not.toContain('killed');

    await dynamodb.stop();
    expect(existsSync(scratch)).toBe(false);
    expect(readdirSync(dbPath)).toContain(`${dynamodb.accessKeyId}_local.db`);
  });

  it('go, for one in memory, to a directory of its own that stop removes', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const dynamodb = await startDynamoDbLocal();
    const made = scratchMadeSince(before);
    expect(made).toHaveLength(1);
    expect(readdirSync(join(tmpdir(), made[0] ?? ''))).toContainEqual(expect.stringMatching(unpackedLibrary));
    expect(readdirSync(tmpdir()).filter((name) => unpackedLibrary.test(name))).toEqual([]);

    await dynamodb.stop();
    expect(existsSync(join(tmpdir(), made[0] ?? ''))).toBe(false);
  });

  it('go too when it cannot start (its port taken), whose error gives its exit code and its last words', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const before = new Set(readdirSync(tmpdir()));
    try {
      // No time to wait for an answer: the exit is told while the first request waits on the port's holder.
      await expect(startDynamoDbLocal({ port, readyTimeoutMs: 1 })).rejects.toThrow(
        /^DynamoDB Local exited with code [1-9]\d*:\n[\s\S]*(in use|BindException)/,
      );
    } finally {
      taken.close();
    }
    expect(scratchMadeSince(before)).toEqual([]);
  });

  it('go too when its Java is killed as it starts, which the error names', async () => {
    // A Java that passes the check of its modules, then dies by SIGKILL (the kernel's OOM killer, say).
    const bin = executablesFirstOnPath({
      java: '[ "$1" = --list-modules ] && { echo java.base@17.0.15; echo jdk.compiler@17.0.15; exit 0; }\nkill -KILL $$',
    });
    const before = new Set(readdirSync(tmpdir()));
    try {
      await expect(startDynamoDbLocal({ readyTimeoutMs: 2_000 })).rejects.toThrow(
        /^DynamoDB Local was killed by SIGKILL:/,
      );
    } finally {
      vi.unstubAllEnvs();
      rmSync(bin, { recursive: true, force: true });
    }
    expect(scratchMadeSince(before)).toEqual([]);
  });
});

describe('the tables DynamoDB Local keeps under its dbPath', () => {
  it('are told damaged, with what to do, where a power cut left them half written, not waited for', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-damaged-'));
    try {
      const first = await startDynamoDbLocal({ dbPath });
      await first.stop();
      // SQLite's header, and no more: the file a write cut short leaves.
      truncateSync(join(dbPath, `${first.accessKeyId}_local.db`), 100);
      await expect(startDynamoDbLocal({ dbPath })).rejects.toThrow(
        `the tables in ${dbPath} are damaged (SQLite: database disk image is malformed), as a power cut or a full disk while DynamoDB Local wrote can leave them: restore the directory from a backup, or move it aside to start with no tenants, apps or usage`,
      );
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  }, 60_000);
});
