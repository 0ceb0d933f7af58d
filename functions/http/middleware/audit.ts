import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Principal } from '../../core/api-keys.ts';
import type { ApiEnv } from '../context.ts';

/** One request that may have changed something, as the audit log records it. */
export interface AuditEntry {
  /** The answer's `Request-Id`, which API Gateway's access log names too. */
  requestId: string;
  method: string;
  path: string;
  status: number;
  role: Principal['role'];
  /** A tenant key's id; for an admin key, its prefix (`bk_` and six characters), which tells the two of a rotation. */
  key: string;
  /** The tenant whose key it was. */
  tenantId?: string;
  /** Where the request came from, as the server or API Gateway saw it. */
  ip?: string;
  /** The answer was one kept for its Idempotency-Key, replayed: the request changed nothing this time. */
  replayed?: true;
}

/** Where the audit entries go: the platform's log, each a line of its own. */
export interface AuditLog {
  record(entry: AuditEntry): void;
}

/**
 * The audit log as lines `audit` of the platform's log: the API Lambda's (its fields read by CloudWatch Logs Insights)
 * or local mode's output.
 */
export const auditLogOn = (logger: {
  info(message: string, details: Record<string, unknown>): void;
}): AuditLog => ({
  record: (entry) => logger.info('audit', { ...entry }),
});

/** Methods that change nothing. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Where the request came from: API Gateway's `sourceIp` in AWS mode (the Lambda's env is its event), the socket's
 * peer in local mode (@hono/node-server's env), none for a request made in process.
 */
type CallerEnv =
  | {
      requestContext?: { http?: { sourceIp?: unknown } };
      incoming?: { socket?: { remoteAddress?: unknown } };
    }
  | undefined;

function callerAddress(c: Context<ApiEnv>): string | undefined {
  const env = c.env as CallerEnv;
  const address = env?.requestContext?.http?.sourceIp ?? env?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

const whoOf = (principal: Principal) =>
  principal.role === 'admin'
    ? { role: principal.role, key: principal.keyPrefix }
    : { role: principal.role, key: principal.keyId, tenantId: principal.tenantId };

/**
 * Records, once answered, each request with a valid key that may change something (every method but GET, HEAD and
 * OPTIONS), whatever its answer: who made it (which key), from where, what it asked and how it ended. So an operator
 * can tell who deleted an app or suspended a tenant, and what a leaked key did before it was revoked, which API
 * Gateway's access log cannot (it knows no key). Reads are left to the access log: a dashboard polling the API
 * would write a line a second for nothing changed. Requests without a valid key get no entry, nor those over their
 * key's rate limit (429, before this records anything): they reach nothing, and the access log has them; so the audit
 * log grows no faster than the keys' rate limits let writes through.
 */
export function auditWrites(log: AuditLog) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    await next();
    if (READS.has(c.req.method)) return;
    const ip = callerAddress(c);
    log.record({
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ...whoOf(c.get('principal')),
      ...(ip ? { ip } : {}),
      ...(c.res.headers.get('idempotent-replayed') === 'true' ? { replayed: true as const } : {}),
    });
  });
}
