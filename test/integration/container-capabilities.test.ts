import { describe, expect, it } from 'vitest';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';

/** Linux capability numbers (linux/capability.h). */
const CAP = { CHOWN: 0, SETGID: 6, SETUID: 7, NET_BIND_SERVICE: 10, NET_RAW: 13 } as const;

describe('app containers on Docker Engine', () => {
  it('run with the default capabilities but NET_RAW, as on Fargate and EKS', async () => {
    const { call, createTenant, runtime } = await localApiOnDocker();
    const key = (await createTenant('acme')).key;
    try {
      const serve = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www';
      const created = await call(
        'POST',
        '/v1/apps',
        key,
        sampleApp('web', { command: ['sh', '-c', `grep CapEff /proc/self/status; ${serve}`] }),
      );
      expect(created.status, created.text).toBe(201);
      const line = await eventually('the container to print its capabilities', async () => {
        const logs = await call('GET', '/v1/apps/web/logs?tail=10', key);
        return /CapEff:\s+([0-9a-f]+)/.exec(logs.text)?.[1];
      });
      const effective = BigInt(`0x${line}`);
      const has = (cap: number) => (effective >> BigInt(cap)) & 1n;
      expect(has(CAP.NET_RAW)).toBe(0n);
      for (const cap of [CAP.CHOWN, CAP.SETGID, CAP.SETUID, CAP.NET_BIND_SERVICE]) expect(has(cap)).toBe(1n);
    } finally {
      await call('DELETE', '/v1/apps/web', key);
      await untilAppGone(call, key, 'web');
      await runtime.loop.stop();
    }
  }, 120_000);
});
