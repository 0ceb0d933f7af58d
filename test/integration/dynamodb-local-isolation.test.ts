import { execFile } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, vi } from 'vitest';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { localDynamoDbClient, startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { tableNames } from '../support/dynamodb-tables.ts';

const run = promisify(execFile);

describe("the platform's DynamoDB Local among tenants' containers", () => {
  it('listens on loopback only: an app container, which reaches the host, cannot reach it', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-isolation-'));
    const dynamodb = await startDynamoDbLocal({ dbPath });
    // A server on every address of the host, as DynamoDB Local's own jar would be.
    const host = createServer((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nthe host answers'));
    host.listen(0, '0.0.0.0');
    await once(host, 'listening');
    try {
      const client = localDynamoDbClient(dynamodb);
      await ensureTable(client, 'berth-state');
      expect(dynamodb.accessKeyId).toMatch(/^[0-9a-f]{40}$/);
      expect(await tableNames(dynamodb)).toEqual(['berth-state']);

      // Not the CLI helper's spawnSync: this process must go on answering as the host meanwhile.
      const fromContainer = (port: number) =>
        run('docker', [
          'run',
          '--rm',
          // The host as a container reaches it: the engine's own name for the bridge's gateway (the bridge network's
          // IPAM config leaves the gateway out when the engine chose it, as on its first start).
          '--add-host',
          'host.docker.internal:host-gateway',
          '--entrypoint',
          '/bin/busybox',
          inject('testImage'),
          'wget',
          '-qO-',
          '--header',
          'X-Amz-Target: DynamoDB_20120810.ListTables',
          '--header',
          'Content-Type: application/x-amz-json-1.0',
          '--post-data',
          '{}',
          `http://host.docker.internal:${port}/`,
        ]).then(
          ({ stdout }) => ({ status: 0, output: stdout }),
          (err: { code: number; stdout: string; stderr: string }) => ({
            status: err.code,
            output: `${err.stdout}${err.stderr}`,
          }),
        );
      expect(await fromContainer((host.address() as AddressInfo).port)).toMatchObject({
        status: 0,
        output: 'the host answers',
      });
      expect(await fromContainer(dynamodb.port)).toMatchObject({
        status: 1,
        output: expect.stringContaining('Connection refused'),
      });
      // On the machine itself, another access key finds a database of its own, empty.
      expect(await tableNames({ endpoint: dynamodb.endpoint, accessKeyId: 'local' })).toEqual([]);
    } finally {
      host.close();
      await dynamodb.stop();
      rmSync(dbPath, { recursive: true, force: true });
    }
  });

  it('keeps its key with its files across restarts, and takes over the shared database an earlier Berth kept', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-key-'));
    chmodSync(dbPath, 0o755);
    try {
      let dynamodb = await startDynamoDbLocal({ dbPath });
      const first = dynamodb.accessKeyId;
      // DynamoDB Local makes its database files readable by all: the directory is the owner's alone.
      expect(statSync(dbPath).mode & 0o777).toBe(0o700);
      expect(statSync(join(dbPath, 'access-key-id')).mode & 0o777).toBe(0o600);
      const client = localDynamoDbClient(dynamodb);
      await ensureTable(client, 'berth-state');
      await dynamodb.stop();

      dynamodb = await startDynamoDbLocal({ dbPath });
      expect(dynamodb.accessKeyId).toBe(first);
      expect(await tableNames(dynamodb)).toEqual(['berth-state']);
      await dynamodb.stop();

      // As an earlier Berth left it: one database every key shared (-sharedDb), and no key of its own.
      renameSync(join(dbPath, `${first}_local.db`), join(dbPath, 'shared-local-instance.db'));
      rmSync(join(dbPath, 'access-key-id'));
      dynamodb = await startDynamoDbLocal({ dbPath });
      expect(dynamodb.accessKeyId).not.toBe(first);
      expect(await tableNames(dynamodb)).toEqual(['berth-state']);
      expect(existsSync(join(dbPath, 'shared-local-instance.db'))).toBe(false);
      expect(readdirSync(dbPath)).toContain(`${dynamodb.accessKeyId}_local.db`);
      await dynamodb.stop();
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  });

  it('finds its tables again when its key file is empty, as a power cut can leave it, rather than open a database anew', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-key-'));
    const keyFile = join(dbPath, 'access-key-id');
    try {
      let dynamodb = await startDynamoDbLocal({ dbPath });
      const first = dynamodb.accessKeyId;
      await ensureTable(localDynamoDbClient(dynamodb), 'berth-state');
      await dynamodb.stop();

      writeFileSync(keyFile, '');
      const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
      dynamodb = await startDynamoDbLocal({ dbPath });
      expect(warned).toHaveBeenCalledWith(
        `[berth] ${keyFile} held no key (as a power cut can leave it): taken again from the name of the tables' database, ${first}_local.db`,
      );
      warned.mockRestore();
      expect(dynamodb.accessKeyId).toBe(first);
      expect(await tableNames(dynamodb)).toEqual(['berth-state']);
      await dynamodb.stop();
      expect(readFileSync(keyFile, 'utf8')).toBe(first);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);

      // Two databases and no key to tell them apart: the start names them rather than guess.
      const other = 'ab'.repeat(20);
      copyFileSync(join(dbPath, `${first}_local.db`), join(dbPath, `${other}_local.db`));
      writeFileSync(keyFile, '');
      const refused = await startDynamoDbLocal({ dbPath }).then(
        () => 'started',
        (err: Error) => err.message,
      );
      expect(refused).toContain(`${keyFile} names none of the databases in ${dbPath} (`);
      expect(refused).toContain('): write into it the 40 hex digits of the one that holds the tables');
      expect(refused).toContain(`${first}_local.db`);
      expect(refused).toContain(`${other}_local.db`);
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  });
});
