import type { Store } from '../core/ports.ts';
import { allApps, allTenants } from '../core/walk.ts';

export interface AppRef {
  tenantId: string;
  app: string;
}

/** SQS takes at most 10 messages per batch. */
export const DISPATCH_BATCH = 10;

/**
 * The dispatcher job: one reconcile message per app, sent in batches, so workers reconcile apps in parallel with
 * bounded concurrency (the queue's consumers), each app at most once at a time (the reconciler's lease).
 */
export async function dispatchReconciles(
  store: Store,
  send: (batch: AppRef[]) => Promise<void>,
): Promise<number> {
  let batch: AppRef[] = [];
  let sent = 0;
  for await (const tenant of allTenants(store)) {
    for await (const app of allApps(store, tenant.id)) {
      batch.push({ tenantId: tenant.id, app: app.name });
      if (batch.length === DISPATCH_BATCH) {
        await send(batch);
        sent += batch.length;
        batch = [];
      }
    }
  }
  if (batch.length) {
    await send(batch);
    sent += batch.length;
  }
  return sent;
}
