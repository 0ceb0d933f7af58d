import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../../functions/adapters/aws/client-config.ts';

describe("the AWS SDK clients' configuration", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('gives up a request the service never answers, and tries it again, rather than wait for ever', async () => {
    // A service that takes each request and never answers, as a connection gone silent does.
    const requests: string[] = [];
    server = createServer((req) => {
      requests.push(String(req.url));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sts = new STSClient({
      ...sdkClientConfig({ connectionTimeoutMs: 1_000, idleSocketTimeoutMs: 100 }),
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(requests).toHaveLength(3);
  });
});
