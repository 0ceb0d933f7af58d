import type { RuntimeName } from '../../schemas/app.ts';
import type { Store } from '../core/ports.ts';
import { allApps, allTenants } from '../core/walk.ts';

/**
 * One reconcile message: an app on a replica runtime (its own pass), or every app of a tenant on a workload runtime
 * (one pass for the tenant's namespace: one observation serves all its apps).
 */
export type ReconcileMessage =
  | { tenantId: string; app: string }
  | { tenantId: string; workloads: RuntimeName };

/** SQS takes at most 10 messages per batch. */
export const DISPATCH_BATCH = 10;

/**
 * The dispatcher job: one reconcile message per app on a replica runtime and one per tenant and workload runtime,
 * sent in batches, so workers reconcile in parallel with bounded concurrency (the queue's consumers), each app or
 * tenant at most once at a time (the reconcilers' leases).
 */
export async function dispatchReconciles(
  store: Store,
  workloadRuntimes: ReadonlySet<RuntimeName>,
  send: (batch: ReconcileMessage[]) => Promise<void>,
): Promise<number> {
  let batch: ReconcileMessage[] = [];
  let sent = 0;
  const add = async (message: ReconcileMessage) => {
    batch.push(message);
    if (batch.length < DISPATCH_BATCH) return;
    await send(batch);
    sent += batch.length;
    batch = [];
  };
  for await (const tenant of allTenants(store)) {
    const workloads = new Set<RuntimeName>();
    for await (const app of allApps(store, tenant.id)) {
      if (workloadRuntimes.has(app.spec.runtime)) workloads.add(app.spec.runtime);
      else await add({ tenantId: tenant.id, app: app.name });
    }
    for (const runtime of workloads) await add({ tenantId: tenant.id, workloads: runtime });
  }
  if (batch.length) {
    await send(batch);
    sent += batch.length;
  }
  return sent;
}
