import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';

const unpackedLibrary = /^sqlite-.*libsqlite4java\.so$/;

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
    const made = readdirSync(tmpdir()).filter(
      (name) => !before.has(name) && name.startsWith('berth-dynamodb-'),
    );
    expect(made).toHaveLength(1);
    expect(readdirSync(join(tmpdir(), made[0] ?? ''))).toContainEqual(expect.stringMatching(unpackedLibrary));
    expect(readdirSync(tmpdir()).filter((name) => unpackedLibrary.test(name))).toEqual([]);

    await dynamodb.stop();
    expect(existsSync(join(tmpdir(), made[0] ?? ''))).toBe(false);
  });
});
