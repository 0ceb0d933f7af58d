import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDbHttp } from '../../functions/adapters/dynamodb/dynamodb-http.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The client's end of the connection the request came on. */
  clientPort: number | undefined;
}

/** An answer of the stand-in: a status and a JSON body; `'hang'` for none at all; `'drop'` to close the connection. */
export type Answer = { status: number; body: object } | 'hang' | 'drop';

export const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'stand-in-secret',
  sessionToken: 'token',
};

/**
 * An HTTP server that answers as DynamoDB would what DynamoDB Local never does — throttling, 5xx, unprocessed
 * items, silence — one scripted answer a request (the last answer repeats), each with a request id `request-<n>` as
 * DynamoDB's `x-amzn-RequestId`, recording each request. `client` talks to it as the platform talks to DynamoDB.
 */
export async function dynamoDbStandIn(answers: Answer[]) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body, clientPort: req.socket.remotePort });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (!answer || answer === 'hang') return;
    if (answer === 'drop') return req.socket.destroy();
    res.writeHead(answer.status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': `request-${received.length}`,
    });
    res.end(JSON.stringify(answer.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    received,
    client: (options: { maxAttempts?: number; attemptTimeoutMs?: number } = {}) =>
      new DynamoDbHttp({ endpoint, region: 'eu-west-1', credentials: async () => CREDENTIALS, ...options }),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
