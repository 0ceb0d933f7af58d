import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { handle } from 'hono/aws-lambda';
import { createApi } from '../http/api.ts';
import { awsDeps } from '../shared/aws.ts';
import { readAwsConfig } from '../shared/aws-config.ts';

const logger = new Logger({ serviceName: 'berth-api' });
const metrics = new Metrics({ namespace: 'Berth', serviceName: 'api' });

/** The API Lambda: the same Hono app as local mode, behind API Gateway's HTTP API. */
export const handler = middy(
  handle(
    createApi(awsDeps(readAwsConfig(), { error: (message, details) => logger.error(message, details) })),
  ),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
