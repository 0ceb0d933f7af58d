import type { AwsCredentials } from '../aws/credentials.ts';
import { type AwsErrorShape, isTransientAwsError } from '../aws/retry.ts';
import { signedHeaders } from '../aws/sigv4.ts';

export interface DynamoDbConnection {
  region: string;
  /** Where DynamoDB answers; by default the region's public endpoint. */
  endpoint?: string;
  credentials: () => Promise<AwsCredentials>;
  /** Tries of one request, the first included, when it fails in a way that passes; 3 as the SDK's standard mode. */
  maxAttempts?: number;
  /** How long one try may take before it is abandoned (and retried). */
  attemptTimeoutMs?: number;
}

/** DynamoDB's answer to a request it refused or failed: its error's name, and what the SDK's errors carry. */
export class DynamoDbError extends Error implements AwsErrorShape {
  readonly $metadata: { httpStatusCode: number };

  constructor(
    override readonly name: string,
    message: string,
    httpStatusCode: number,
    /** Per item of a cancelled transaction, why. */
    readonly CancellationReasons?: { Code?: string; Message?: string }[],
  ) {
    super(message);
    this.$metadata = { httpStatusCode };
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

const BASE_DELAY_MS = 25;
const MAX_DELAY_MS = 2_000;

/**
 * DynamoDB's JSON protocol over `fetch`, signed with SigV4 (sigv4.ts): one POST per operation, its input and output as the API
 * reference names them (attribute values marshalled). The SDK's client does the same, but loading it costs a Lambda
 * cold start more than everything else the API needs (`npm run bench -- lambda`). Failures that pass — throttling,
 * DynamoDB's 5xx, a timeout, the network — are retried with full-jitter back-off, as the SDK's standard mode does;
 * the rest come back as DynamoDbError at once.
 */
export class DynamoDbHttp {
  /** Where it sends each request. */
  readonly endpoint: URL;
  private readonly region: string;
  private readonly credentials: () => Promise<AwsCredentials>;
  private readonly maxAttempts: number;
  private readonly attemptTimeoutMs: number;

  constructor(connection: DynamoDbConnection) {
    this.endpoint = new URL(connection.endpoint ?? `https://dynamodb.${connection.region}.amazonaws.com`);
    this.region = connection.region;
    this.credentials = connection.credentials;
    this.maxAttempts = connection.maxAttempts ?? 3;
    this.attemptTimeoutMs = connection.attemptTimeoutMs ?? 10_000;
  }

  /** Runs `operation` (`GetItem`, `Query`, …) with `input`, and returns DynamoDB's output. */
  async call<T = Record<string, unknown>>(operation: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.send(operation, body)) as T;
      } catch (err) {
        if (attempt >= this.maxAttempts || !isTransientAwsError(err as AwsErrorShape)) throw err;
        const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
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
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.attemptTimeoutMs),
      });
    } catch (err) {
      const code =
        (err as Error).name === 'TimeoutError'
          ? 'ETIMEDOUT'
          : (err as { cause?: { code?: string } }).cause?.code;
      throw new DynamoDbUnreachable(code, { cause: err });
    }
    const text = await res.text();
    const output = parseJson(text);
    if (res.ok && output) return output;
    const type = String(output?.__type ?? '');
    throw new DynamoDbError(
      type.slice(type.lastIndexOf('#') + 1) || `HTTP${res.status}`,
      String(output?.message ?? output?.Message ?? text.slice(0, 200)),
      res.status,
      output?.CancellationReasons as DynamoDbError['CancellationReasons'],
    );
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
