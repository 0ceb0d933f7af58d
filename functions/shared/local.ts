import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStore } from '../adapters/dynamodb/store.ts';
import { hashApiKey, makeKeyAuthenticator } from '../core/api-keys.ts';
import type { CoreDeps } from '../core/ports.ts';
import type { ApiDeps } from '../http/context.ts';
import type { RateLimitOptions } from '../http/middleware/rate-limit.ts';

export interface LocalWiring {
  dynamodb: DynamoDBClient;
  tableName: string;
  adminKey: string;
  ingressPort: number;
  rateLimit: RateLimitOptions;
}

/** Revocation by another process takes effect within this time; in this process, at once. */
const KEY_CACHE_TTL_MS = 1000;

/** The composition root of local mode: the same API and core over DynamoDB Local. */
export function localDeps(wiring: LocalWiring): ApiDeps {
  const store = new DynamoStore(
    DynamoDBDocumentClient.from(wiring.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    wiring.tableName,
  );
  const core: CoreDeps = {
    store,
    clock: { now: () => new Date() },
    appUrl: (tenantId, app) => `http://${app}.${tenantId}.localhost:${wiring.ingressPort}`,
    runtimes: ['docker'],
  };
  return {
    ...core,
    auth: makeKeyAuthenticator(core, {
      adminKeyHash: hashApiKey(wiring.adminKey),
      cacheTtlMs: KEY_CACHE_TTL_MS,
    }),
    rateLimit: wiring.rateLimit,
    logger: { error: (message, details) => console.error(`[berth] ${message}`, details) },
  };
}
