import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** Powertools logging and metrics for one Lambda, through middy, the same for every handler. */
export function observed<E, R>(
  service: string,
  handler: (event: E, tools: { logger: Logger; metrics: Metrics }, context: Context) => Promise<R>,
) {
  const logger = new Logger({ serviceName: `berth-${service}` });
  const metrics = new Metrics({ namespace: 'Berth', serviceName: service });
  return middy((event: E, context: Context) => handler(event, { logger, metrics }, context))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

/** The logger shape the core and jobs take. */
export const errorLogger = (logger: Logger) => ({
  error: (message: string, details: Record<string, unknown>) => logger.error(message, details),
});

/**
 * Runs `job`, then waits for the writes it left in flight (reconcile nudges, a key's last use), even when it fails
 * part-way: a Lambda is frozen once it returns.
 */
export async function thenFlush<T>(inFlight: { flush(): Promise<void> }, job: () => Promise<T>): Promise<T> {
  try {
    return await job();
  } finally {
    await inFlight.flush();
  }
}
