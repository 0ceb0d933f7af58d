import { describe, expect, it } from 'vitest';
import { localApi, sampleApp } from '../support/local-api.ts';

/** A Lambda's answer may be at most 6 MB: API Gateway answers 502 for a larger one. */
const LAMBDA_ANSWER_BYTES = 6 * 1024 * 1024;

/** What the API Lambda's answer takes with `body` in it: hono/aws-lambda gives a JSON body as a string. */
const lambdaAnswerBytes = (body: string) =>
  Buffer.byteLength(
    JSON.stringify({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body,
      isBase64Encoded: false,
    }),
  );

describe('list pages on DynamoDB Local', () => {
  it("end before their Lambda answer outgrows 6 MB, when DynamoDB's 1 MB a read holds more, and page on to every item", async () => {
    const { call, adminKey, createTenant } = await localApi();
    const plan = await call('POST', '/v1/plans', adminKey, {
      id: 'wide',
      name: 'Wide',
      limits: { apps: 100, instancesPerApp: 1, vcpu: 100, memoryMiB: 102_400 },
    });
    expect(plan.status).toBe(201);
    const key = (await createTenant('acme', 'wide')).key;
    // As much env as one request's 64 KB carries: control characters, one byte stored and six as JSON.
    const env = { NOISE: '\u0001'.repeat(10_000) };
    const names = Array.from({ length: 100 }, (_, i) => `app-${String(i).padStart(3, '0')}`);
    for (const name of names) {
      expect((await call('POST', '/v1/apps', key, sampleApp(name, { env }))).status).toBe(201);
    }

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/v1/apps?limit=100${cursor ? `&cursor=${cursor}` : ''}`, key);
      expect(res.status).toBe(200);
      expect(lambdaAnswerBytes(res.text)).toBeLessThan(LAMBDA_ANSWER_BYTES);
      const page = res.json as { items: { name: string }[]; nextCursor: string | null };
      pages.push(page.items.map((app) => app.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual(names);
  });
});
