/**
 * How long an AWS SDK request may wait for a connection, and then on a socket that carries nothing (an idle socket,
 * not the whole transfer). The SDK waits for ever by default, so a connection gone silent — dropped while a Lambda
 * was frozen — held a call until the Lambda timed out: the API's answer was API Gateway's timeout rather than Berth's
 * 503, a job's run was lost. The SDK retries a try that timed out, on a new connection (3 tries, its standard mode).
 * The services answer in well under a second; CloudWatch Logs' filter, the slowest Berth calls, within a few.
 * (The SDK's `requestTimeout` would bound a whole request, and by default only warns.)
 */
const SDK_TIMEOUTS = { connectionTimeoutMs: 3_000, idleSocketTimeoutMs: 10_000 };

/** What every AWS SDK client of Berth's is made with. */
export const sdkClientConfig = (timeouts = SDK_TIMEOUTS) => ({
  requestHandler: {
    connectionTimeout: timeouts.connectionTimeoutMs,
    socketTimeout: timeouts.idleSocketTimeoutMs,
  },
});
