import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { readInstallation } from '../shared/aws-config.ts';

/**
 * Where every handler's figures go, by `service` (the handler's name) and `installation` (BERTH_INSTALLATION, so two
 * installs in one account and region never add to each other's); the install's alarms watch some of them.
 */
export const METRICS_NAMESPACE = 'Berth';

/**
 * One Lambda's handler, with Powertools logging and metrics through middy, the same for every handler. `setup`
 * builds what the handler works with once, while the module loads — Lambda's INIT phase, which provisioned
 * concurrency runs before any request arrives; a setup that fails fails the INIT, which Lambda reports and retries.
 * Every handler adds a figure at every invocation: metrics with nothing to publish log a warning each time. An
 * invocation that fails is logged with its error, then fails as it would (Lambda's retries, the dead-letter queue).
 */
export async function observed<E, R, D>(
  service: string,
  setup: (tools: { logger: Logger }) => D | Promise<D>,
  handler: (event: E, tools: { logger: Logger; metrics: Metrics; deps: D }, context: Context) => Promise<R>,
) {
  const logger = new Logger({ serviceName: `berth-${service}` });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: service,
    defaultDimensions: { installation: readInstallation() },
  });
  const deps = await setup({ logger });
  return middy(async (event: E, context: Context) => {
    try {
      return await handler(event, { logger, metrics, deps }, context);
    } catch (err) {
      // Lambda's record of a failed invocation keeps the error's type, message and stack; this line also keeps its
      // cause (the AWS service's own error under an UnavailableError) and the invocation's context.
      logger.error('the invocation failed', { error: err });
      throw err;
    }
  })
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
