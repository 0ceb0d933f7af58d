import { expect } from 'vitest';
import { getAppRecord } from '../../functions/core/apps.ts';
import { listDeployments } from '../../functions/core/deployments.ts';
import type { CoreDeps } from '../../functions/core/ports.ts';

/** An app's latest deployments, newest first, as their revisions and statuses: how its rollouts went. */
export async function deploymentHistory(deps: CoreDeps, tenantId: string, app: string) {
  const { items } = await listDeployments(deps, tenantId, app, { limit: 5 });
  return items.map((d) => [d.revision, d.status]);
}

/**
 * Checks that app `web` of `acme` is back on revision 1, running with `readyReplicas`, after revision 2 failed while
 * revision 1 served though its deployment had been superseded before it went live: the rollback's deployment live.
 */
export async function expectBackOnSupersededFirst(deps: CoreDeps, readyReplicas: number) {
  expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
    status: 'running',
    targetRevision: 1,
    currentRevision: 1,
    readyReplicas,
  });
  expect(await deploymentHistory(deps, 'acme', 'web')).toEqual([
    [1, 'succeeded'],
    [2, 'rolled_back'],
    [1, 'superseded'],
  ]);
}
