import type { RuntimeName } from '../../schemas/app.ts';
import type { Store } from '../core/ports.ts';
import { allApps, allTenants } from '../core/walk.ts';

/**
 * One reconcile message: a tenant's apps on one runtime (the schedule's), or one app (the API's nudge after a
 * write), which stands for its tenant's apps on the app's runtime. One observation serves all of them.
 */
export type ReconcileMessage = { tenantId: string; runtime: RuntimeName } | { tenantId: string; app: string };

/** SQS takes at most 10 messages per batch. */
export const DISPATCH_BATCH = 10;

/**
 * The dispatcher job: one reconcile message per tenant and runtime its apps use, sent in batches, so workers
 * reconcile tenants in parallel with bounded concurrency (the queue's consumers), each tenant's apps on a runtime
 * at most once at a time (the reconciler's lease).
 */
export async function dispatchReconciles(
  store: Store,
  send: (batch: ReconcileMessage[]) => Promise<void>,
): Promise<number> {
  let batch: ReconcileMessage[] = [];
  let sent = 0;
  const flush = async () => {
    await send(batch);
    sent += batch.length;
    batch = [];
  };
  for await (const tenant of allTenants(store)) {
    const runtimes = new Set<RuntimeName>();
    for await (const app of allApps(store, tenant.id)) runtimes.add(app.spec.runtime);
    for (const runtime of runtimes) {
      batch.push({ tenantId: tenant.id, runtime });
      if (batch.length === DISPATCH_BATCH) await flush();
    }
  }
  if (batch.length) await flush();
  return sent;
}
