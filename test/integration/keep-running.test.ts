import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTable } from '../../functions/adapters/dynamodb/table.ts';
import { localDynamoDbClient, startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { keepRunning } from '../../functions/local/keep-running.ts';
import { eventually } from '../support/ingress-client.ts';
import { workerPort } from '../support/worker-port.ts';

describe('DynamoDB Local kept running by the platform', () => {
  it('comes back on its port, over its files, after it is killed', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'berth-kept-'));
    const port = await workerPort();
    const log: string[] = [];
    const kept = await keepRunning('DynamoDB Local', () => startDynamoDbLocal({ dbPath, port }), {
      retryMs: 100,
      maxRetryMs: 1000,
      log: (line) => log.push(line),
    });
    const client = localDynamoDbClient(kept.first);
    try {
      await ensureTable(client, 'kept');
      // As the kernel's OOM killer would: its command line names its files.
      execFileSync('pkill', ['-KILL', '-f', `dbPath ${dbPath}`]);
      // It may answer a moment before the start that brought it back has said so.
      await eventually(
        'it to answer again, and the start to be done',
        async () => {
          const tables = await client.call<{ TableNames?: string[] }>('ListTables', {});
          return tables.TableNames?.includes('kept') && log.length === 2 ? true : undefined;
        },
        30_000,
      );
      expect(log).toEqual([
        'DynamoDB Local was killed by SIGKILL; starting it again',
        'DynamoDB Local is running again',
      ]);
    } finally {
      await kept.stop();
    }
  });
});
