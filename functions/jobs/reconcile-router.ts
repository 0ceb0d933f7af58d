import type { RuntimeName } from '../../schemas/app.ts';
import type { QueueMessage } from './dispatch.ts';
import type { SweepResult, WorkloadPass, WorkloadReconciler } from './workload-reconcile.ts';

export interface ReconcileRouterDeps {
  /** The reconciler of each runtime this worker runs apps on. */
  workloads: Partial<Record<RuntimeName, Pick<WorkloadReconciler, 'reconcileTenant' | 'sweep'>>>;
}

/**
 * Sends a message to its runtime's reconciler: a sweep, or a pass over the tenant's apps there unless one that
 * began after the message was sent (`sentAt`, ms) covers it. Returns what the sweep removed, or what the pass did.
 */
export async function routeReconcile(
  deps: ReconcileRouterDeps,
  message: QueueMessage,
  sentAt?: number,
): Promise<{ swept: SweepResult } | { pass: WorkloadPass }> {
  const runtime = 'sweep' in message ? message.sweep : message.runtime;
  const reconciler = deps.workloads[runtime];
  if (!reconciler) throw new Error(`this worker does not reconcile apps on the ${runtime} runtime`);
  if ('sweep' in message) return { swept: await reconciler.sweep() };
  return { pass: await reconciler.reconcileTenant(message.tenantId, sentAt) };
}

/**
 * When a delivered message asked for its pass: SQS's send time, on its first delivery. A retry always runs (a pass
 * that began since may have failed too), so a tenant whose passes keep failing still ends in the dead-letter queue.
 */
export function askedAt(delivery: {
  ApproximateReceiveCount: string;
  SentTimestamp: string;
}): number | undefined {
  return delivery.ApproximateReceiveCount === '1' ? Number(delivery.SentTimestamp) : undefined;
}

/** One message of a batch, as SQS delivers it to the worker. */
export interface DeliveredMessage {
  messageId: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string };
}

/** What a batch's messages did, as the worker's figures count it; the operator's alarms watch some of them. */
export interface BatchFigures {
  reconciles: number;
  reconcilesFailed: number;
  tenantHomesRemoved: number;
  orphanedWorkloadsRemoved: number;
  sweepsRefused: number;
  appsNotStarting: number;
}

/**
 * Routes each message of a batch in turn (routeReconcile); a message that fails is logged and answered as failed,
 * alone, so SQS retries only it. What the sweeps removed is named, and a refused sweep says why.
 */
export async function routeReconciles(
  deps: ReconcileRouterDeps,
  messages: readonly DeliveredMessage[],
  logger: {
    warn(message: string, details: Record<string, unknown>): void;
    error(message: string, details: Record<string, unknown>): void;
  },
): Promise<{ failed: string[]; figures: BatchFigures }> {
  const failed: string[] = [];
  const figures: BatchFigures = {
    reconciles: messages.length,
    reconcilesFailed: 0,
    tenantHomesRemoved: 0,
    orphanedWorkloadsRemoved: 0,
    sweepsRefused: 0,
    appsNotStarting: 0,
  };
  for (const { messageId, body, attributes } of messages) {
    try {
      const routed = await routeReconcile(deps, JSON.parse(body) as QueueMessage, askedAt(attributes));
      if ('pass' in routed) {
        figures.appsNotStarting += routed.pass.notStarting;
        continue;
      }
      const { swept } = routed;
      figures.tenantHomesRemoved += swept.tenantHomes;
      figures.orphanedWorkloadsRemoved += swept.orphans.length;
      // Nothing Berth made should outlive its app: each one found says how it happened (a lost lease, a table
      // restored from before the app), so each is named.
      for (const orphan of swept.orphans) logger.warn('removed a workload whose app is gone', { ...orphan });
      if (swept.refused) {
        figures.sweepsRefused += 1;
        logger.error('sweep refused', { reason: swept.refused });
      }
    } catch (err) {
      logger.error('reconcile failed', { messageId, error: err });
      failed.push(messageId);
    }
  }
  figures.reconcilesFailed = failed.length;
  return { failed, figures };
}
