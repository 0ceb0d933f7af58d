import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { InFlight } from '../../core/in-flight.ts';
import type { ReconcileMessage } from '../../jobs/dispatch.ts';

/**
 * The reconcile queue: the dispatcher's batches, and the API's nudge when a write changes an app, so a deploy starts
 * at once instead of at the next schedule. Nudges are sent in the background and awaited by `flush()` before a
 * Lambda returns (a frozen Lambda would otherwise drop them).
 */
export class ReconcileQueue {
  private readonly inFlight = new InFlight();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly logger: { error(message: string, details: Record<string, unknown>): void },
  ) {}

  async send(batch: ReconcileMessage[]): Promise<void> {
    const res = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((ref, i) => ({ Id: String(i), MessageBody: JSON.stringify(ref) })),
      }),
    );
    if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} reconcile messages`);
  }

  nudge(tenantId: string, app: string): void {
    this.inFlight.track(
      this.sqs
        .send(
          new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify({ tenantId, app }) }),
        )
        .catch((err: unknown) =>
          // The next scheduled dispatch reconciles the app anyway; a lost nudge only costs that wait.
          this.logger.error('could not nudge the reconciler', { tenantId, app, error: String(err) }),
        ),
    );
  }

  flush(): Promise<void> {
    return this.inFlight.flush();
  }
}
