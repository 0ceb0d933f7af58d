import type { ReconcileQueue } from '../adapters/sqs/reconcile-queue.ts';
import { InFlight } from '../core/in-flight.ts';
import type { HostResolver, ImageRegistry, ReplicaView } from '../core/ports.ts';

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
      replicaStats: async (replicas, windowSeconds, figures) =>
        (await view()).metrics.replicaStats(replicas, windowSeconds, figures),
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
    holdImage: async (repository, digest, appUid) => (await registry()).holdImage(repository, digest, appUid),
    releaseImages: async (repository, digests, appUid) =>
      (await registry()).releaseImages(repository, digests, appUid),
  };
}

/** Hosts resolved by `addresses`, with the private domains of the apps' network loaded at the first check. */
export function deferredPrivateDomains(
  addresses: Pick<HostResolver, 'addressesOf'>,
  load: () => Promise<Pick<HostResolver, 'privateDomainOf'>>,
): HostResolver {
  const domains = once(load);
  return {
    addressesOf: (host) => addresses.addressesOf(host),
    privateDomainOf: async (host) => (await domains()).privateDomainOf(host),
  };
}

/** What the API does with the reconcile queue: nudge it after a write, flush it before the Lambda returns. */
export type Nudges = Pick<ReconcileQueue, 'nudge' | 'flush'>;

/**
 * A reconcile queue loaded at its first nudge, so a request that changes no app never loads it. A nudge whose load
 * fails is logged and lost, like one SQS refuses (the next scheduled dispatch reconciles the app anyway); the next
 * nudge tries the load again.
 */
export function deferredNudges(
  load: () => Promise<Nudges>,
  logger: { error(message: string, details: Record<string, unknown>): void },
): Nudges {
  const queue = once(load);
  const loading = new InFlight();
  let loaded: Nudges | undefined;
  return {
    nudge(tenantId, runtime) {
      loading.track(
        queue().then(
          (q) => {
            loaded = q;
            q.nudge(tenantId, runtime);
          },
          (err: unknown) => logger.error('could not nudge the reconciler', { tenantId, runtime, error: err }),
        ),
      );
    },
    async flush() {
      await loading.flush();
      await loaded?.flush();
    },
  };
}
