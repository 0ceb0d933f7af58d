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
