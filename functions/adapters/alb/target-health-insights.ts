import type { AppRecord, Replica, ReplicaInsight } from '../../core/ports.ts';
import type { AppTargetGroups } from './app-target-groups.ts';

/**
 * What an API process can know of replicas on AWS without the reconcile workers' memory: health as the load
 * balancer sees it, and restarts as the failed tasks of the same revision, stopped before it started, that ECS still
 * reports (a service replaces a failed task with a new one); a task its service stopped (a scale-in, a restart's
 * replacement) exits non-zero on SIGTERM too, and is no failure.
 */
export function targetHealthInsights(targetGroups: Pick<AppTargetGroups, 'targetHealth'>) {
  return async (app: AppRecord, replicas: Replica[]): Promise<Map<string, ReplicaInsight>> => {
    const health = await targetGroups.targetHealth(app.tenantId, app.name);
    return new Map(
      replicas.map((replica) => {
        const state = replica.endpoint
          ? health.get(`${replica.endpoint.host}:${replica.endpoint.port}`)
          : undefined;
        const restarts = replicas.filter(
          (other) =>
            other.id !== replica.id &&
            other.state === 'exited' &&
            other.revision === replica.revision &&
            other.exitCode !== null &&
            other.exitCode !== 0 &&
            !other.stopRequested &&
            other.createdAt < replica.createdAt,
        ).length;
        return [replica.id, { ready: state === 'healthy', unhealthy: state === 'unhealthy', restarts }];
      }),
    );
  };
}
