import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';

/**
 * What API Gateway writes of each request to the API's access log: a JSON object a line, whose fields CloudWatch Logs
 * Insights reads, of the variables an HTTP API has. Not CDK's default for an HTTP API's stage, the Common Log Format
 * of REST APIs: its `$context.resourcePath` is not an HTTP API's, so no line said which path was asked for, and its
 * caller and user are set only under IAM authorization, which the API does not use. `requestId` is the `Request-Id`
 * of the answer, which the API's own log lines name. The integration's status and error, and API Gateway's own error,
 * say why API Gateway answered 5xx itself (the Lambda throttled, timed out or crashed), which the API's log group
 * cannot (AWS's advice for an HTTP API's Lambda integration, "Troubleshooting issues with HTTP API Lambda
 * integrations"). The user agent is left out: any text a client likes, and no help in telling why a request failed.
 */
export const API_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    time: '$context.requestTime',
    domain: '$context.domainName',
    method: '$context.httpMethod',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatencyMs: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
    errorType: '$context.error.responseType',
  }),
);
