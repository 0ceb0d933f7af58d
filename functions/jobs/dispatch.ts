import type { RuntimeName } from '../../schemas/app.ts';
import { chunks } from '../core/chunks.ts';
import { mapWithLimit } from '../core/map-with-limit.ts';
import type { Store } from '../core/ports.ts';
import { allApps, listEveryTenant } from '../core/walk.ts';

/**
 * One reconcile message: a tenant's apps on one runtime, from the schedule or from the API after a write that
 * changed one of them. One observation serves all of them.
 */
export interface ReconcileMessage {
  tenantId: string;
  runtime: RuntimeName;
}

/** A sweep message: the homes a runtime keeps for tenants that no longer exist are removed. */
export interface SweepMessage {
  sweep: RuntimeName;
}

/** What the reconcile queue carries. */
export type QueueMessage = ReconcileMessage | SweepMessage;

/** SQS takes at most 10 messages per batch. */
export const DISPATCH_BATCH = 10;

/** Tenants whose apps are read at once, and batches sent at once. */
const IN_FLIGHT = 8;

/**
 * The dispatcher job: one reconcile message per tenant and runtime its apps use, sent in batches, so workers
 * reconcile tenants in parallel with bounded concurrency (the queue's consumers), each tenant's apps on a runtime
 * at most once at a time (the reconciler's lease); and a sweep message per runtime offered (the reconciler runs
 * one now and then). Tenants are read eight at a time: one after another, ten thousand tenants would take longer
 * than the minute between runs.
 */
export async function dispatchReconciles(
  store: Store,
  send: (batch: QueueMessage[]) => Promise<void>,
  runtimes: readonly RuntimeName[],
): Promise<number> {
  const tenants = await listEveryTenant(store);
  const perTenant = await mapWithLimit(tenants, IN_FLIGHT, async ({ id: tenantId }) => {
    const used = new Set<RuntimeName>();
    for await (const app of allApps(store, tenantId)) used.add(app.spec.runtime);
    return [...used].map((runtime): QueueMessage => ({ tenantId, runtime }));
  });
  const messages = [...perTenant.flat(), ...runtimes.map((sweep): QueueMessage => ({ sweep }))];
  await mapWithLimit(chunks(messages, DISPATCH_BATCH), IN_FLIGHT, send);
  return messages.length;
}
