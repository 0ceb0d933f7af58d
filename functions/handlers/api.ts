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
  (event: LambdaEvent, { deps }, context) => thenFlush(deps.inFlight, () => deps.answer(event, context)),
);
