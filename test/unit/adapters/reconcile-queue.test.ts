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
      { tenantId: 'acme', app: 'web' },
      { tenantId: 'acme', app: 'api' },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: url,
      Entries: [
        { Id: '0', MessageBody: '{"tenantId":"acme","app":"web"}' },
        { Id: '1', MessageBody: '{"tenantId":"acme","app":"api"}' },
      ],
    });
    await expect(queue.send([{ tenantId: 'acme', app: 'web' }])).rejects.toThrow('refused 1');
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
    queue.nudge('acme', 'web');
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
      MessageBody: '{"tenantId":"acme","app":"web"}',
    });
    queue.nudge('acme', 'web');
    await queue.flush();
    expect(errors).toEqual([expect.objectContaining({ tenantId: 'acme', app: 'web', error: 'Error: down' })]);
  });
});
