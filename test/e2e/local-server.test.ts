import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { keyPrefixOf } from '../../functions/core/api-keys.ts';
import { SHARED_ACCESS_KEY } from '../../functions/local/dynamodb-local.ts';
import { labelledContainers } from '../support/docker-cli.ts';
import { tableNames } from '../support/dynamodb-tables.ts';
import {
  exited,
  fetchFrom,
  logsNamedIn,
  platformEnv,
  startPlatform,
  startThroughNpm,
  waitForReady,
} from '../support/platform-process.ts';

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
    const { dataDir, api: base, env } = await platformEnv();

    const first = startPlatform(env);
    await waitForReady(first);
    expect(first.output()).toContain('admin key  bk_');
    const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    expect(first.output()).toContain(adminKey);
    const created = await fetchFrom(first, `${base}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'acme', name: 'Acme', plan: 'free' }),
    });
    expect(created.status).toBe(201);
    // The write is in the platform's log, with the key that made it (by its prefix) and where from.
    await waitForReady(
      first,
      5000,
      `[berth] audit { requestId: '${created.headers.get('request-id')}', method: 'POST', path: '/v1/tenants', ` +
        `status: 201, role: 'admin', key: '${keyPrefixOf(adminKey)}', ip: '127.0.0.1' }`,
    );
    // JSON whose Content-Type has whitespace before its parameter (RFC 9110 lets it) is JSON on Node's server too.
    const spaced = await fetchFrom(first, `${base}/v1/plans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json ; charset=utf-8' },
      body: JSON.stringify({
        id: 'spaced',
        name: 'Spaced',
        limits: { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 },
      }),
    });
    expect(spaced.status).toBe(201);
    const firstDynamoDbPort = dynamoDbPort(first.output());
    expect(await isListening(firstDynamoDbPort)).toBe(true);
    // Its tables are under the access key kept with its files: any other key finds an empty database.
    const endpoint = `http://127.0.0.1:${firstDynamoDbPort}`;
    const ownKey = readFileSync(join(dataDir, 'dynamodb', 'access-key-id'), 'utf8');
    expect(await tableNames({ endpoint, accessKeyId: ownKey })).toEqual([env.BERTH_TABLE_NAME]);
    expect(await tableNames({ endpoint, accessKeyId: SHARED_ACCESS_KEY })).toEqual([]);

    // A second start on the same data directory stops before it touches anything (a second DynamoDB Local over the
    // same files, say), naming the platform that has it.
    const running = processesMentioning(dataDir);
    const again = startPlatform(env);
    expect(await exited(again.child), again.output()).toBe(1);
    expect(again.output()).toContain(
      `could not start: another Berth (pid ${first.child.pid}) runs on ${dataDir}: stop it first`,
    );
    expect(processesMentioning(dataDir)).toEqual(running);
    // So does one with a data directory of its own but the same installation (the table's name), whose containers
    // it would take for its own.
    const otherDir = mkdtempSync(join(tmpdir(), 'berth-platform-'));
    const beside = startPlatform({ ...env, BERTH_DATA_DIR: otherDir });
    expect(await exited(beside.child), beside.output()).toBe(1);
    expect(beside.output()).toContain(
      `could not start: another Berth (pid ${first.child.pid}) runs installation "${env.BERTH_TABLE_NAME}" on this machine`,
    );
    expect(processesMentioning(otherDir)).toEqual([]);

    first.child.kill('SIGINT');
    expect(await exited(first.child), first.output()).toBe(0);
    expect(await isListening(firstDynamoDbPort)).toBe(false);

    const second = startPlatform(env);
    try {
      await waitForReady(second);
      expect(second.output()).not.toContain(adminKey);
      const tenant = await fetchFrom(second, `${base}/v1/tenants/acme`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(tenant.status).toBe(200);
      expect(((await tenant.json()) as { tenant: { name: string } }).tenant.name).toBe('Acme');
    } catch (err) {
      // What failed is the news, not how the platform then exits.
      second.child.kill('SIGKILL');
      throw err;
    }
    second.child.kill('SIGTERM');
    expect(await exited(second.child), second.output()).toBe(0);
  }, 120_000);

  it('stops with npm when npm alone is sent SIGTERM (a process manager, `timeout`), leaving nothing running', async () => {
    const { dataDir, env } = await platformEnv();
    const npm = startThroughNpm(env);
    try {
      await waitForReady(npm);
      npm.child.kill('SIGTERM');
      await exited(npm.child);
      // npm passes the signal to the script's process: the platform, not a shell that would die of it and leave the
      // platform running with no parent, holding its ports, DynamoDB Local and the registry.
      expect(npm.output()).toContain('[berth] SIGTERM: stopping…');
      expect(processesMentioning(dataDir)).toEqual([]);
    } finally {
      killPlatformOf(dataDir);
    }
  }, 120_000);

  it('stops on SIGINT though a client still follows a log, which would otherwise hold it for good', async () => {
    const { dataDir, api: base, env } = await platformEnv();
    const platform = startPlatform(env);
    try {
      await waitForReady(platform);
      const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
      const call = async (method: string, path: string, key: string, body?: unknown) =>
        fetchFrom(platform, `${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const tenant = await call('POST', '/v1/tenants', adminKey, { id: 'acme', name: 'Acme', plan: 'free' });
      const key = ((await tenant.json()) as { apiKey: { key: string } }).apiKey.key;
      // Scaled to zero from the start, so no container can outlive the test: its log is followed until a replica
      // starts, or the client leaves.
      const app = {
        name: 'web',
        image: inject('testImage'),
        cpu: 0.25,
        memory: 512,
        port: 8080,
        replicas: 0,
      };
      expect((await call('POST', '/v1/apps', key, app)).status).toBe(201);
      const follow = await call('GET', '/v1/apps/web/logs?follow=true', key);
      expect(follow.status).toBe(200);
      const followed = follow.text().catch(() => '');
      platform.child.kill('SIGINT');
      expect(await exited(platform.child), platform.output()).toBe(0);
      // The follow went with it, its connection closed.
      expect(await followed).toBe('');
      expect(labelledContainers(env.BERTH_TABLE_NAME ?? '')).toEqual([]);
    } finally {
      platform.child.kill('SIGKILL');
    }
  }, 120_000);

  it('fails to start, naming the setting, when a port it needs is taken, and leaves nothing running', async () => {
    // DynamoDB Local and the registry, which started before, are stopped with it.
    await expectStartRefused(createServer(), 'ingressPort', 'BERTH_INGRESS_PORT');
  }, 120_000);

  it('fails to start on a registry port another registry holds, rather than take that one for its own', async () => {
    // What a registry anyone may push to answers (`docker run -p 5000:5000 registry` is the usual first one).
    const open = createHttpServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
    );
    await expectStartRefused(open, 'registryPort', 'BERTH_REGISTRY_PORT');
  }, 120_000);
});

/**
 * Starts a platform while `holder`, in this test's process, listens on its `port`: the platform must stop, naming
 * this process and `setting`, before it is ready, and leave nothing running.
 */
async function expectStartRefused(holder: NetServer, port: 'ingressPort' | 'registryPort', setting: string) {
  const platform = await platformEnv();
  holder.listen(platform[port], '127.0.0.1');
  await once(holder, 'listening');
  const started = startPlatform(platform.env);
  try {
    // Ready instead fails the test at once, rather than at its timeout.
    const ready = waitForReady(started).then(
      () => 'ready',
      () => exited(started.child),
    );
    expect(await Promise.race([exited(started.child), ready])).toBe(1);
    expect(started.output(), logsNamedIn(started.output())).toContain(
      `could not start: port ${platform[port]} is already in use by pid ${process.pid} (`,
    );
    expect(started.output()).toContain(`): set ${setting} to a free one`);
    expect(processesMentioning(platform.dataDir)).toEqual([]);
  } finally {
    killPlatformOf(platform.dataDir);
    holder.close();
  }
}

/** Kills the platform whose lock `dataDir` holds, if it still runs (its children go with it). */
function killPlatformOf(dataDir: string) {
  try {
    process.kill(Number.parseInt(readFileSync(join(dataDir, 'platform.lock'), 'utf8'), 10), 'SIGKILL');
  } catch {
    // No lock, or no such process: nothing runs.
  }
}

/** The command lines of running processes that mention `text`. */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return command.includes(text) ? [command] : [];
      } catch {
        return [];
      }
    });
}
