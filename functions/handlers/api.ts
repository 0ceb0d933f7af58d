import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import type { Store } from '../core/ports.ts';
import { type Api, createApi } from '../http/api.ts';
import { auditLogOn } from '../http/middleware/audit.ts';
import { compileRoutes } from '../http/routes/router.ts';
import { awsApiDeps } from '../shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

/** Not the SHA-256 of any key: hashes of keys are lowercase hex, this is not hex. */
const NO_KEY_HASH = 'warm-up';

/** Methods of which the Fetch API makes no request with a body. */
const BODILESS = new Set(['GET', 'HEAD']);

/**
 * The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. What a request starts beside its
 * answer — the reconcile queue's nudges after writes that change an app, a key's last-use write — is sent before
 * the Lambda returns.
 */
export const handler = await observed(
  'api',
  async ({ logger }) => {
    const deps = await awsApiDeps(readAwsRuntimeConfig(), errorLogger(logger), auditLogOn(logger));
    const api = createApi(deps);
    if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency') {
      await warmUp(api, deps.store, logger);
    }
    return {
      answer: handle(api),
      inFlight: { flush: async () => void (await Promise.all([deps.queue.flush(), deps.auth.flush()])) },
    };
  },
  (event: LambdaEvent, { deps, metrics }, context) =>
    thenFlush(deps.inFlight, async () => {
      const answer = await deps.answer(withoutBodyOnGet(withPathEncoded(event)), context);
      countAnswer(metrics, answer.statusCode);
      return answer;
    }),
);

/**
 * `event` with its path percent-encoded again, segment by segment. API Gateway's HTTP API hands the Lambda the path
 * decoded (`rawPath`, despite its name), and Hono pastes it into a URL, where a decoded `#` or `?` would end the path
 * and a `\`, tab or newline change it: `DELETE /v1/apps/web%23x` would delete the app `web` and drop the query string,
 * where the local server answers 400 for the name `web#x`. No route's path holds a character that this encodes; a path
 * that came still encoded (as AWS's guide has it) has its `%` encoded, and is refused too, as no name holds a `%`.
 */
function withPathEncoded(event: LambdaEvent): LambdaEvent {
  if (!('rawPath' in event)) return event;
  return { ...event, rawPath: event.rawPath.split('/').map(encodeURIComponent).join('/') };
}

/**
 * `event` without the body API Gateway passes on with a GET or HEAD (`curl -X GET -d …`), where `handle` would answer
 * a plain-text 400 "Invalid request", the Fetch API making no request of such a body. It is dropped, as Node's server
 * drops it in local mode: the API reads none, and such a body has no meaning (RFC 9110 §9.3.1).
 */
function withoutBodyOnGet(event: LambdaEvent): LambdaEvent {
  const method = 'http' in event.requestContext ? event.requestContext.http.method : undefined;
  return event.body && method && BODILESS.has(method) ? { ...event, body: null } : event;
}

/**
 * Does ahead of traffic, while provisioned concurrency initializes an instance, what its first requests would do on
 * the way: compile the routes (routes/router.ts), load the Fetch API under Hono (`/healthz`), the table's
 * credentials, signing and connection (a read of a key hash no key has). A provisioned instance's first request then
 * answers about as fast as its later ones. On-demand instances skip it: their INIT is on the first request's path
 * anyway, where the read would only add a round trip. A failure only leaves the work to the first requests.
 */
async function warmUp(api: Api, store: Pick<Store, 'findApiKeyByHash'>, logger: Logger) {
  try {
    compileRoutes(api);
    await api.request('/healthz');
    await store.findApiKeyByHash(NO_KEY_HASH);
  } catch (err) {
    logger.warn('could not warm up; the first request will load what it needs', { error: err });
  }
}

/**
 * What Berth knows of an answer beyond API Gateway's own metrics: requests turned away for their key (401) or their
 * rate (429), and answers that failed (5xx). Zeros count too, so an alarm on them never lacks data.
 */
function countAnswer(metrics: Metrics, status: number) {
  metrics.addMetric('requests', 'Count', 1);
  metrics.addMetric('unauthorized', 'Count', status === 401 ? 1 : 0);
  metrics.addMetric('rateLimited', 'Count', status === 429 ? 1 : 0);
  metrics.addMetric('serverErrors', 'Count', status >= 500 ? 1 : 0);
}
