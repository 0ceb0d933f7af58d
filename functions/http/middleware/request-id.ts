import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';

/** What Hono's Lambda adapter passes as the request's env: API Gateway's context, with its request id. */
type GatewayEnv = { requestContext?: { requestId?: unknown } } | undefined;

/**
 * Names each request, answered as `Request-Id` and logged with any error it ends in, so a caller can quote it: API
 * Gateway's own id in AWS mode (also in its access log and its `apigw-requestid` header), else a new one. A caller's
 * own id is not taken: the name must point at one request.
 */
export function requestId() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const gatewayId = (c.env as GatewayEnv)?.requestContext?.requestId;
    const id = typeof gatewayId === 'string' && gatewayId ? gatewayId : randomUUID();
    c.set('requestId', id);
    // Set before the answer exists, Hono puts it on every answer made through the context. Set on a finished answer,
    // it would copy that answer, and on Node take it off @hono/node-server's fast path.
    c.header('request-id', id);
    await next();
  });
}
