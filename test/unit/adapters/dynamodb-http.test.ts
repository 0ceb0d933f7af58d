import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbError, DynamoDbHttp } from '../../../functions/adapters/dynamodb/dynamodb-http.ts';
import { translateStoreError } from '../../../functions/adapters/dynamodb/errors.ts';
import { type Answer, CREDENTIALS, dynamoDbStandIn, type Received } from '../../support/dynamodb-stand-in.ts';
import { workerPort } from '../../support/worker-port.ts';

const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** SigV4 as AWS documents it, computed apart from the signer under test: the signature the request should carry. */
function expectedSignature({ headers, body }: Received): string {
  const auth = String(headers.authorization);
  const [, scope = '', signedHeaders = ''] =
    /Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+), Signature=/.exec(auth) ?? [];
  const names = signedHeaders.split(';');
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((name) => `${name}:${String(headers[name]).trim()}`),
    '',
    signedHeaders,
    sha256(body),
  ].join('\n');
  const at = String(headers['x-amz-date']);
  const [day = '', region = '', service = ''] = scope.split('/');
  const key = [day, region, service, 'aws4_request'].reduce<string | Buffer>(
    (k, part) => hmac(k, part),
    `AWS4${CREDENTIALS.secretAccessKey}`,
  );
  return hmac(key, ['AWS4-HMAC-SHA256', at, scope, sha256(canonical)].join('\n')).toString('hex');
}

/** DynamoDB's 400 answer for an error of `name`, as its JSON protocol shapes it. */
const refusal = (name: string, details: Record<string, unknown>): Answer => ({
  status: 400,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${name}`, ...details },
});

const throttled = refusal('ProvisionedThroughputExceededException', { message: 'slow down' });

describe('DynamoDbHttp', () => {
  let standIn: Awaited<ReturnType<typeof dynamoDbStandIn>> | undefined;
  afterEach(() => standIn?.close());

  it("posts the operation as DynamoDB's JSON protocol, signed with SigV4, and returns the output", async () => {
    standIn = await dynamoDbStandIn([{ status: 200, body: { Item: { pk: { S: 'a' } } } }]);
    const output = await standIn.client().call('GetItem', { TableName: 't', Key: { pk: { S: 'a' } } });
    expect(output).toEqual({ Item: { pk: { S: 'a' } } });
    const [request] = standIn.received;
    if (!request) throw new Error('no request');
    expect(JSON.parse(request.body)).toEqual({ TableName: 't', Key: { pk: { S: 'a' } } });
    expect(request.headers).not.toHaveProperty('transfer-encoding');
    expect(request.headers).toMatchObject({
      'content-length': String(Buffer.byteLength(request.body)),
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
      'x-amz-security-token': 'token',
    });
    const auth = String(request.headers.authorization);
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=/,
    );
    const signed = auth.split('SignedHeaders=')[1]?.split(',')[0]?.split(';');
    expect(signed).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token']),
    );
    expect(auth.split('Signature=')[1]).toBe(expectedSignature(request));
  });

  it("gives DynamoDB's refusal at once, as an error named as DynamoDB names it", async () => {
    standIn = await dynamoDbStandIn([
      refusal('TransactionCanceledException', {
        Message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    ]);
    const failed = standIn.client().call('TransactWriteItems', { TransactItems: [] });
    await expect(failed).rejects.toBeInstanceOf(DynamoDbError);
    await expect(failed).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      message: 'Transaction cancelled',
      $metadata: { httpStatusCode: 400, requestId: 'request-1' },
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
    });
    expect(standIn.received).toHaveLength(1);
  });

  it('retries throttling and 5xx until an attempt succeeds', async () => {
    standIn = await dynamoDbStandIn([
      throttled,
      { status: 500, body: { __type: 'InternalServerError', message: 'oops' } },
      { status: 200, body: { Count: 0 } },
    ]);
    await expect(standIn.client({ maxAttempts: 3 }).call('Query', {})).resolves.toEqual({ Count: 0 });
    expect(standIn.received).toHaveLength(3);
  });

  it('takes a refusal of its own write for success only after a try that may have been carried out', async () => {
    const ownItem = refusal('ConditionalCheckFailedException', {
      message: 'failed',
      Item: { pk: { S: 'a' } },
    });
    const serverError = { status: 500, body: { __type: 'InternalServerError', message: 'oops' } };
    const ownWrite = (err: DynamoDbError) => err.Item?.pk !== undefined;
    // DynamoDB's 5xx, or no answer at all, may follow a write it carried out.
    for (const first of [serverError, 'drop'] as const) {
      standIn = await dynamoDbStandIn([first, ownItem]);
      expect(await standIn.client().call('PutItem', {}, ownWrite)).toEqual({});
      standIn.close();
    }
    // A throttled try wrote nothing: the item found is someone else's.
    standIn = await dynamoDbStandIn([throttled, ownItem]);
    await expect(standIn.client().call('PutItem', {}, ownWrite)).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });

  it('tries a transaction again while DynamoDB is still applying an earlier try with its token', async () => {
    standIn = await dynamoDbStandIn([
      refusal('TransactionInProgressException', {
        message: 'the transaction with the given request token is already in progress',
      }),
      { status: 200, body: {} },
    ]);
    const input = { ClientRequestToken: 'token-1', TransactItems: [] };
    await expect(standIn.client().call('TransactWriteItems', input)).resolves.toEqual({});
    expect(standIn.received.map((r) => JSON.parse(r.body).ClientRequestToken)).toEqual([
      'token-1',
      'token-1',
    ]);
  });

  it('gives up on a transaction DynamoDB goes on applying, with an error the store turns into 503', async () => {
    standIn = await dynamoDbStandIn([refusal('TransactionInProgressException', { message: 'in progress' })]);
    const failed = standIn.client({ maxAttempts: 2 }).call('TransactWriteItems', { ClientRequestToken: 't' });
    await expect(failed.catch(translateStoreError)).rejects.toMatchObject({ code: 'unavailable' });
    expect(standIn.received).toHaveLength(2);
  });

  it('gives up after its attempts, with an error the store turns into 503 unavailable', async () => {
    standIn = await dynamoDbStandIn([throttled]);
    const failed = standIn.client({ maxAttempts: 2 }).call('Query', {});
    await expect(failed).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(standIn.received).toHaveLength(2);
    await expect(failed.catch(translateStoreError)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('abandons an attempt that gets no answer in time, and tries again', async () => {
    standIn = await dynamoDbStandIn(['hang']);
    const failed = standIn.client({ maxAttempts: 2, attemptTimeoutMs: 200 }).call('GetItem', {});
    await expect(failed).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(standIn.received).toHaveLength(2);
    await expect(failed.catch(translateStoreError)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it("takes an attempt's deadline down with its answer: no timer outlives the call", async () => {
    standIn = await dynamoDbStandIn([{ status: 200, body: {} }]);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await expect(standIn.client().call('GetItem', {})).resolves.toEqual({});
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps its connection open from one request to the next', async () => {
    standIn = await dynamoDbStandIn([{ status: 200, body: {} }]);
    const client = standIn.client();
    await client.call('GetItem', {});
    await client.call('GetItem', {});
    const [first, second] = standIn.received;
    expect(second?.clientPort).toBe(first?.clientPort);
  });

  it('tries again when the connection is closed without an answer, as a kept-alive one may be', async () => {
    standIn = await dynamoDbStandIn(['drop', { status: 200, body: {} }]);
    await expect(standIn.client().call('PutItem', {})).resolves.toEqual({});
    expect(standIn.received).toHaveLength(2);
  });

  it("names the network's failure when DynamoDB cannot be reached", async () => {
    const port = await workerPort();
    const client = new DynamoDbHttp({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      maxAttempts: 1,
    });
    const failed = client.call('GetItem', {});
    await expect(failed).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(failed.catch(translateStoreError)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it("sends to the region's own endpoint unless told otherwise", () => {
    const client = new DynamoDbHttp({ region: 'eu-west-1', credentials: async () => CREDENTIALS });
    expect(client.endpoint.href).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
  });
});
