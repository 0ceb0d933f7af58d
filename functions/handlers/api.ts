import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsApiDeps } from '../shared/aws.ts';
import { readAwsRuntimeConfig } from '../shared/aws-config.ts';
import { errorLogger, observed, thenFlush } from './lambda.ts';

let api: { handle: ReturnType<typeof handle>; queue: { flush(): Promise<void> } } | undefined;

/**
 * The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. Writes that change an app nudge
 * the reconcile queue; the nudges are sent before the Lambda returns.
 */
export const handler = observed('api', async (event: LambdaEvent, { logger }, context) => {
  if (!api) {
    const deps = awsApiDeps(readAwsRuntimeConfig(), errorLogger(logger));
    api = { handle: handle(createApi(deps)), queue: deps.queue };
  }
  const { handle: answer, queue } = api;
  return thenFlush(queue, () => answer(event, context));
});
