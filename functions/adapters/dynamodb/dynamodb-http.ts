import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AwsCredentials } from '../aws/credentials.ts';
import { type AwsErrorShape, isTransientAwsError, retrying } from '../aws/retry.ts';
import { signedHeaders } from '../aws/sigv4.ts';

export interface DynamoDbConnection {
  region: string;
  /** Where DynamoDB answers; by default the region's public endpoint. */
  endpoint?: string;
  credentials: () => Promise<AwsCredentials>;
  /** Tries of one request, the first included, when it fails in a way that passes; @default TABLE_CALLS.attempts */
  maxAttempts?: number;
  /** How long one try may take before it is abandoned (and retried). @default TABLE_CALLS.attemptTimeoutMs */
  attemptTimeoutMs?: number;
}

/**
 * DynamoDB's answer to a request it refused or failed: its error's name, and what the SDK's errors carry — the
 * status, and AWS's id of the request, which the logs show and AWS Support asks for.
 */
export class DynamoDbError extends Error implements AwsErrorShape {
  readonly $metadata: { httpStatusCode: number; requestId?: string };

  constructor(
    override readonly name: string,
    message: string,
    httpStatusCode: number,
    /** Per item of a cancelled transaction, why. */
    readonly CancellationReasons?: { Code?: string; Message?: string }[],
    requestId?: string,
    /** The item a failed condition found, where the request asked for it (ReturnValuesOnConditionCheckFailure). */
    readonly Item?: Record<string, unknown>,
  ) {
    super(message);
    this.$metadata = { httpStatusCode, requestId };
  }
}

/**
 * A request that got no answer: the network's code (ECONNREFUSED, …; ETIMEDOUT when the attempt timed out), as
 * isTransientAwsError reads it.
 */
class DynamoDbUnreachable extends Error implements AwsErrorShape {
  constructor(
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(`DynamoDB did not answer${code ? ` (${code})` : ''}`, options);
    this.name = 'DynamoDbUnreachable';
  }
}

/**
 * How a table call is tried. 3 tries, as the SDK's standard mode, with a full-jitter back-off whose ceiling starts at
 * `baseDelayMs` and doubles up to `maxDelayMs`. A try waits at most `attemptTimeoutMs` for its answer: DynamoDB
 * answers in milliseconds, so a try that waits seconds is on a connection that is gone (dropped while the Lambda was
 * frozen), better abandoned for a new one; and all the tries of a call that gets no answer end well within the API
 * Lambda's 29 s, so the caller gets Berth's 503 rather than API Gateway's timeout (berth-app.test.ts checks it).
 */
export const TABLE_CALLS = {
  attempts: 3,
  attemptTimeoutMs: 3_000,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
} as const;

/**
 * DynamoDB's JSON protocol over HTTP(S), signed with SigV4 (sigv4.ts): one POST per operation, its input and output
 * as the API reference names them (attribute values marshalled). The SDK's client does the same, but loading it cost
 * a Lambda cold start more than everything else the API needs (`npm run bench -- lambda`). It runs on node:http,
 * which Lambda's Node runtime has loaded before a handler. Failures that pass — throttling, DynamoDB's 5xx, a timeout,
 * the network — are retried with full-jitter back-off, as the SDK's standard mode does; the rest come back as
 * DynamoDbError at once.
 */
export class DynamoDbHttp {
  /** Where it sends each request. */
  readonly endpoint: URL;
  private readonly region: string;
  private readonly credentials: () => Promise<AwsCredentials>;
  /** Connections kept open between requests (idle ones never hold the process open), as the SDK's agent keeps. */
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly maxAttempts: number;
  private readonly attemptTimeoutMs: number;

  constructor(connection: DynamoDbConnection) {
    this.endpoint = new URL(connection.endpoint ?? `https://dynamodb.${connection.region}.amazonaws.com`);
    this.region = connection.region;
    this.credentials = connection.credentials;
    const https = this.endpoint.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = https ? httpsRequest : httpRequest;
    this.maxAttempts = connection.maxAttempts ?? TABLE_CALLS.attempts;
    this.attemptTimeoutMs = connection.attemptTimeoutMs ?? TABLE_CALLS.attemptTimeoutMs;
  }

  /**
   * Runs `operation` (`GetItem`, `Query`, …) with `input`, and returns DynamoDB's output. A try that got no answer, or
   * DynamoDB's 5xx, may have been carried out all the same: a refusal of a later try that `ownWrite` takes for the
   * trace of that one's write (its condition failing on the very item it wrote) is the call's success, `{}`.
   */
  async call<T = Record<string, unknown>>(
    operation: string,
    input: object,
    ownWrite?: (refusal: DynamoDbError) => boolean,
  ): Promise<T> {
    const body = JSON.stringify(input);
    let mayHaveLanded = false;
    const output = await retrying(
      async () => {
        try {
          return await this.send(operation, body);
        } catch (err) {
          const refused = err instanceof DynamoDbError && err.$metadata.httpStatusCode < 500;
          if (refused && mayHaveLanded && ownWrite?.(err)) return {};
          mayHaveLanded ||= !refused;
          throw err;
        }
      },
      (err) => isTransientAwsError(err as AwsErrorShape),
      {
        attempts: this.maxAttempts,
        baseDelayMs: TABLE_CALLS.baseDelayMs,
        maxDelayMs: TABLE_CALLS.maxDelayMs,
      },
    );
    return output as T;
  }

  private async send(operation: string, body: string): Promise<unknown> {
    const headers = signedHeaders(
      {
        method: 'POST',
        url: this.endpoint,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
        body,
      },
      { service: 'dynamodb', region: this.region, credentials: await this.credentials(), now: new Date() },
    );
    let answer: { status: number; text: string; requestId?: string };
    try {
      answer = await this.post(headers, body);
    } catch (err) {
      const { name, code } = err as { name?: string; code?: string };
      throw new DynamoDbUnreachable(name === 'AbortError' ? 'ETIMEDOUT' : code, { cause: err });
    }
    const { status, text, requestId } = answer;
    const output = parseJson(text);
    if (status === 200 && output) return output;
    const type = String(output?.__type ?? '');
    throw new DynamoDbError(
      type.slice(type.lastIndexOf('#') + 1) || `HTTP${status}`,
      String(output?.message ?? output?.Message ?? text.slice(0, 200)),
      status,
      output?.CancellationReasons as DynamoDbError['CancellationReasons'],
      requestId,
      output?.Item as DynamoDbError['Item'],
    );
  }

  /**
   * One POST on a kept-alive connection: DynamoDB's status, body and request id, or the network's error. It is
   * abandoned after attemptTimeoutMs by a timer that goes with the answer: `AbortSignal.timeout` went off long after
   * it, building an exception for nothing (some 8 µs a call in a CPU profile of the local server under load).
   */
  private post(
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; text: string; requestId?: string }> {
    return new Promise((resolve, reject) => {
      const abandon = new AbortController();
      const deadline = setTimeout(() => abandon.abort(), this.attemptTimeoutMs);
      const req = this.request(
        this.endpoint,
        { method: 'POST', headers, agent: this.agent, signal: abandon.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              requestId: [res.headers['x-amzn-requestid']].flat()[0],
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
