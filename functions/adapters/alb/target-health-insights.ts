import type { AppRecord, Replica, ReplicaInsight } from '../../core/ports.ts';
import type { AlbRouter } from './alb-router.ts';

/**
 * What an API process can know of replicas on AWS without the reconcile workers' memory: health as the load
 * balancer sees it, and restarts as the stopped tasks of the same slot that ECS still reports.
 */
export function targetHealthInsights(router: Pick<AlbRouter, 'targetHealth'>) {
  return async (app: AppRecord, replicas: Replica[]): Promise<Map<string, ReplicaInsight>> => {
    const health = await router.targetHealth(app.tenantId, app.name);
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
            other.slot === replica.slot &&
            other.createdAt < replica.createdAt,
        ).length;
        return [replica.id, { ready: state === 'healthy', unhealthy: state === 'unhealthy', restarts }];
      }),
    );
  };
}
