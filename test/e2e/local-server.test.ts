import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../functions/local/free-port.ts';
import { exited, startPlatform, waitForHttp } from '../support/platform-process.ts';

const dynamoDbPort = (output: string) => Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);

async function isListening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (the local server)', () => {
  it('serves the API, stops DynamoDB Local on SIGINT and keeps the data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-start-'));
    const port = await freePort();
    const env = { BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port) };
    const base = `http://127.0.0.1:${port}`;

    const first = startPlatform(env);
    await waitForHttp(`${base}/healthz`, first.output);
    expect(first.output()).toContain('admin key  bk_');
    const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    expect(first.output()).toContain(adminKey);
    const created = await fetch(`${base}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'acme', name: 'Acme', plan: 'free' }),
    });
    expect(created.status).toBe(201);
    const firstDynamoDbPort = dynamoDbPort(first.output());
    expect(await isListening(firstDynamoDbPort)).toBe(true);

    first.child.kill('SIGINT');
    expect(await exited(first.child)).toBe(0);
    expect(await isListening(firstDynamoDbPort)).toBe(false);

    const second = startPlatform(env);
    try {
      await waitForHttp(`${base}/healthz`, second.output);
      expect(second.output()).not.toContain(adminKey);
      const tenant = await fetch(`${base}/v1/tenants/acme`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(tenant.status).toBe(200);
      expect(((await tenant.json()) as { tenant: { name: string } }).tenant.name).toBe('Acme');
    } finally {
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    }
  }, 120_000);
});
