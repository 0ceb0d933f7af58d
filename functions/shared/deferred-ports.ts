import type { ImageRegistry, ReplicaView } from '../core/ports.ts';

/*
 * Ports whose adapters — and the SDK clients they hold — are imported on first use. A Lambda bundle keeps what a
 * dynamic import brings in chunks of its own (infra/handler-bundling.ts), so a cold start that answers a request
 * never needing them neither parses nor runs them.
 */

/** Loads on the first call and keeps the result; a failed load is tried again on the next call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    }));
}

/** A replica view whose adapters load when a request first looks at replicas. */
export function deferredReplicaView(load: () => Promise<ReplicaView>): ReplicaView {
  const view = once(load);
  return {
    runtime: { listReplicas: async (filter) => (await view()).runtime.listReplicas(filter) },
    logs: {
      async *replicaLogs(replica, options) {
        yield* (await view()).logs.replicaLogs(replica, options);
      },
    },
    metrics: {
      replicaStats: async (replicas, windowSeconds) =>
        (await view()).metrics.replicaStats(replicas, windowSeconds),
    },
    replicaInsights: async (app, replicas) => (await view()).replicaInsights(app, replicas),
  };
}

/** A registry whose adapter loads at its first call; how it names things is known without it. */
export function deferredRegistry(
  names: Pick<ImageRegistry, 'host' | 'namespaceOf'>,
  load: () => Promise<ImageRegistry>,
): ImageRegistry {
  const registry = once(load);
  return {
    host: names.host,
    namespaceOf: names.namespaceOf,
    imageAt: async (repository, reference) => (await registry()).imageAt(repository, reference),
    login: async (tenantId) => (await registry()).login(tenantId),
    createRepository: async (tenantId, name) => (await registry()).createRepository(tenantId, name),
    listRepositories: async (tenantId) => (await registry()).listRepositories(tenantId),
    listImages: async (tenantId, name) => (await registry()).listImages(tenantId, name),
    deleteRepository: async (tenantId, name) => (await registry()).deleteRepository(tenantId, name),
  };
}
