import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ReconcileQueue } from '../../../functions/adapters/sqs/reconcile-queue.ts';

const sqs = mockClient(SQSClient);
const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/reconcile';

describe('ReconcileQueue', () => {
  beforeEach(() => sqs.reset());

  it('sends the dispatcher’s batches and fails loudly when SQS refuses part of one', async () => {
    const queue = new ReconcileQueue(new SQSClient({}), url, { error: () => undefined });
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [] })
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'x', SenderFault: false }] });
    await queue.send([
      { tenantId: 'acme', runtime: 'fargate' },
      { tenantId: 'beta', runtime: 'eks' },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: url,
      Entries: [
        { Id: '0', MessageBody: '{"tenantId":"acme","runtime":"fargate"}' },
        { Id: '1', MessageBody: '{"tenantId":"beta","runtime":"eks"}' },
      ],
    });
    await expect(queue.send([{ tenantId: 'acme', runtime: 'fargate' }])).rejects.toThrow('refused 1');
  });

  it('nudges in the background, flushes before the Lambda returns, and logs a lost nudge', async () => {
    const errors: unknown[] = [];
    const queue = new ReconcileQueue(new SQSClient({}), url, {
      error: (_m, details) => errors.push(details),
    });
    let release: () => void = () => undefined;
    sqs
      .on(SendMessageCommand)
      .callsFakeOnce(() => new Promise((resolve) => (release = () => resolve({}))))
      .rejectsOnce(new Error('down'));
    queue.nudge('acme', 'fargate');
    let flushed = false;
    const flushing = queue.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: url,
      MessageBody: '{"tenantId":"acme","runtime":"fargate"}',
    });
    queue.nudge('acme', 'fargate');
    await queue.flush();
    expect(errors).toEqual([
      expect.objectContaining({ tenantId: 'acme', runtime: 'fargate', error: new Error('down') }),
    ]);
  });

  it("nudges a tenant's runtime once per request, however many of its apps the request changed", async () => {
    const queue = new ReconcileQueue(new SQSClient({}), url, { error: () => undefined });
    sqs.on(SendMessageCommand).resolves({});
    // A tenant suspended: each of its apps is told, on two runtimes.
    for (const runtime of ['fargate', 'eks', 'fargate', 'fargate', 'eks'] as const)
      queue.nudge('acme', runtime);
    queue.nudge('beta', 'fargate');
    await queue.flush();
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody)).toEqual([
      '{"tenantId":"acme","runtime":"fargate"}',
      '{"tenantId":"acme","runtime":"eks"}',
      '{"tenantId":"beta","runtime":"fargate"}',
    ]);
    // The next request's changes are nudged again.
    queue.nudge('acme', 'fargate');
    await queue.flush();
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 4);
  });
});
