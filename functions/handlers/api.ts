import type { Metrics } from '@aws-lambda-powertools/metrics';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsApiDeps } from '../shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

/**
 * The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. What a request starts beside its
 * answer — the reconcile queue's nudges after writes that change an app, a key's last-use write — is sent before
 * the Lambda returns.
 */
export const handler = await observed(
  'api',
  async ({ logger }) => {
    const deps = await awsApiDeps(readAwsRuntimeConfig(), errorLogger(logger));
    return {
      answer: handle(createApi(deps)),
      inFlight: { flush: async () => void (await Promise.all([deps.queue.flush(), deps.auth.flush()])) },
    };
  },
  (event: LambdaEvent, { deps, metrics }, context) =>
    thenFlush(deps.inFlight, async () => {
      const answer = await deps.answer(event, context);
      countAnswer(metrics, answer.statusCode);
      return answer;
    }),
);

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
