import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsApiDeps } from '../shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

let api: Promise<{ handle: ReturnType<typeof handle>; inFlight: { flush(): Promise<void> } }> | undefined;

/**
 * The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. What a request starts beside its
 * answer — the reconcile queue's nudges after writes that change an app, a key's last-use write — is sent before
 * the Lambda returns.
 */
export const handler = observed('api', async (event: LambdaEvent, { logger }, context) => {
  api ??= awsApiDeps(readAwsRuntimeConfig(), errorLogger(logger)).then((deps) => ({
    handle: handle(createApi(deps)),
    inFlight: { flush: async () => void (await Promise.all([deps.queue.flush(), deps.auth.flush()])) },
  }));
  const { handle: answer, inFlight } = await api;
  return thenFlush(inFlight, () => answer(event, context));
});
