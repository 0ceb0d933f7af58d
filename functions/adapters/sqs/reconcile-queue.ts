import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RuntimeName } from '../../../schemas/app.ts';
import { InFlight } from '../../core/in-flight.ts';
import type { QueueMessage, ReconcileMessage } from '../../jobs/dispatch.ts';

/**
 * The reconcile queue: the dispatcher's batches, and the API's nudge when a write changes an app, so a deploy starts
 * at once instead of at the next schedule. Nudges are sent in the background and awaited by `flush()` before a
 * Lambda returns (a frozen Lambda would otherwise drop them).
 */
export class ReconcileQueue {
  private readonly inFlight = new InFlight();
  /** Nudges sent since the last flush. */
  private readonly nudged = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly logger: { error(message: string, details: Record<string, unknown>): void },
  ) {}

  async send(batch: QueueMessage[]): Promise<void> {
    const res = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((ref, i) => ({ Id: String(i), MessageBody: JSON.stringify(ref) })),
      }),
    );
    if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} reconcile messages`);
  }

  /**
   * Asks for a pass over the tenant's apps on `runtime`, once however many of them a request changed (suspending a
   * tenant changes all of them): until the next flush, a nudge already on its way covers the same ones.
   */
  nudge(tenantId: string, runtime: RuntimeName): void {
    const message: ReconcileMessage = { tenantId, runtime };
    const key = JSON.stringify(message);
    if (this.nudged.has(key)) return;
    this.nudged.add(key);
    this.inFlight.track(
      this.sqs
        .send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: key }))
        .catch((err: unknown) =>
          // The next scheduled dispatch reconciles the apps anyway; a lost nudge only costs that wait.
          this.logger.error('could not nudge the reconciler', { ...message, error: err }),
        ),
    );
  }

  async flush(): Promise<void> {
    await this.inFlight.flush();
    this.nudged.clear();
  }
}
