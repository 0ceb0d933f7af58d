import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { localDynamoDbClient, startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { dockerCli } from '../support/docker-cli.ts';
import { tableNames } from '../support/dynamodb-tables.ts';

describe("the platform's DynamoDB Local among tenants' containers", () => {
  it("shows an app container that reaches its port an empty database, not the platform's tables", async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-ddb-isolation-'));
    const dynamodb = await startDynamoDbLocal({ dbPath });
    try {
      const client = localDynamoDbClient(dynamodb);
      await ensureTable(client, 'berth-state');
      client.destroy();
      expect(dynamodb.accessKeyId).toMatch(/^[0-9a-f]{40}$/);
      expect(await tableNames(dynamodb)).toEqual(['berth-state']);

      // DynamoDB Local listens on every address: a container reaches it through its network's gateway, and it takes
      // any credentials. What such a container, knowing no key of the platform's, is answered:
      const docker = dockerCli();
      const gateway = docker
        .ok(['network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}'])
        .trim();
      const fromContainer = docker.ok([
        'run',
        '--rm',
        '--entrypoint',
        '/bin/busybox',
        inject('testImage'),
        'wget',
        '-qO-',
        '--header',
        'X-Amz-Target: DynamoDB_20120810.ListTables',
        '--header',
        'Content-Type: application/x-amz-json-1.0',
        '--header',
        'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        '--post-data',
        '{}',
        `http://${gateway}:${dynamodb.port}/`,
      ]);
      expect(JSON.parse(fromContainer)).toEqual({ TableNames: [] });
      expect(await tableNames({ endpoint: dynamodb.endpoint, accessKeyId: 'local' })).toEqual([]);
    } finally {
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
      client.destroy();
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
});
