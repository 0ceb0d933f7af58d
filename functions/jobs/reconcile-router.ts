import type { RuntimeName } from '../../schemas/app.ts';
import type { Store } from '../core/ports.ts';
import type { ReconcileMessage } from './dispatch.ts';
import type { Reconciler } from './reconcile.ts';
import type { WorkloadReconciler } from './workload-reconcile.ts';

export interface ReconcileRouterDeps {
  store: Store;
  /** Reconciles apps on replica runtimes (Fargate tasks), one app at a time. */
  replicas: Pick<Reconciler, 'reconcileApp'>;
  /** Reconciles a tenant's apps on each workload runtime (EKS) in one pass. */
  workloads: Partial<Record<RuntimeName, Pick<WorkloadReconciler, 'reconcileTenant'>>>;
}

/**
 * Sends a reconcile message where it belongs. An app message (the API's nudge after a write) for an app on a
 * workload runtime becomes its tenant's pass on that runtime.
 */
export async function routeReconcile(deps: ReconcileRouterDeps, message: ReconcileMessage): Promise<void> {
  const { tenantId } = message;
  if ('workloads' in message) {
    await workloadReconciler(deps, message.workloads).reconcileTenant(tenantId);
    return;
  }
  const app = await deps.store.getApp(tenantId, message.app);
  if (app && deps.workloads[app.spec.runtime]) {
    await workloadReconciler(deps, app.spec.runtime).reconcileTenant(tenantId);
    return;
  }
  await deps.replicas.reconcileApp(tenantId, message.app);
}

function workloadReconciler(deps: ReconcileRouterDeps, runtime: RuntimeName) {
  const reconciler = deps.workloads[runtime];
  if (!reconciler) throw new Error(`this worker does not reconcile apps on the ${runtime} runtime`);
  return reconciler;
}
