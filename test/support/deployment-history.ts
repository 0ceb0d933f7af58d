import { listDeployments } from '../../functions/core/deployments.ts';
import type { CoreDeps } from '../../functions/core/ports.ts';

/** An app's latest deployments, newest first, as their revisions and statuses: how its rollouts went. */
export async function deploymentHistory(deps: CoreDeps, tenantId: string, app: string) {
  const { items } = await listDeployments(deps, tenantId, app, { limit: 5 });
  return items.map((d) => [d.revision, d.status]);
}
