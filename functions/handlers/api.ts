import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsDeps } from '../shared/aws.ts';
import { readAwsConfig } from '../shared/aws-config.ts';
import { errorLogger, observed } from './lambda.ts';

let api: ReturnType<typeof handle> | undefined;

/** The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. */
export const handler = observed('api', async (event: LambdaEvent, { logger }, context) => {
  api ??= handle(createApi(awsDeps(readAwsConfig(), errorLogger(logger))));
  return api(event, context);
});
