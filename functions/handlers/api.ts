import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsApiDeps } from '../shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

let api: Promise<{ handle: ReturnType<typeof handle>; queue: { flush(): Promise<void> } }> | undefined;

/**
 * The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. Writes that change an app nudge
 * the reconcile queue; the nudges are sent before the Lambda returns.
 */
export const handler = observed('api', async (event: LambdaEvent, { logger }, context) => {
  api ??= awsApiDeps(readAwsRuntimeConfig(), errorLogger(logger)).then((deps) => ({
    handle: handle(createApi(deps)),
    queue: deps.queue,
  }));
  const { handle: answer, queue } = await api;
  return thenFlush(queue, () => answer(event, context));
});
