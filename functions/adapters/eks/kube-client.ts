import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  Metrics,
  PatchStrategy,
  type PodMetric,
  type RequestContext,
  type V1Deployment,
  type V1Ingress,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { type FailureKinds, type RetryOptions, withRetryThenUnavailable } from '../aws/retry.ts';
import type { Manifest } from './manifests.ts';
import { FIELD_MANAGER, LABEL } from './manifests.ts';

/** Where the API server is and how to reach it now (the token rotates). */
export type ClusterAccess = () => Promise<{
  /** The API server, e.g. from EKS DescribeCluster. */
  server: string;
  /** Base64 PEM of the cluster CA (EKS DescribeCluster's certificateAuthority.data). */
  caData: string;
  token: string;
}>;

const MANAGED = `${LABEL.managedBy}=${FIELD_MANAGER}`;
/** Who sets annotations outside server-side apply (the apply of FIELD_MANAGER would otherwise own them). */
const ANNOTATING_MANAGER = `${FIELD_MANAGER}-annotations`;

const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

/**
 * The connection to the API server not made, lost or gone silent: fetch's own error, with undici's or Node's code in
 * its cause — `fetch failed` before the answer's headers, `terminated` while its body is read.
 */
const isConnectionFailure = (err: unknown): err is TypeError & { cause?: { code?: string } } =>
  err instanceof TypeError && (err.message === 'fetch failed' || err.message === 'terminated');

/** undici's codes for a call that waited out one of KUBE_TIMEOUTS: not tried again, its time is spent already. */
const TIMED_OUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Worth another try after a wait (every call Berth makes is safe to repeat): the API server turned it away for its
 * load (429, API Priority and Fairness), or its connection failed at once — a kept-alive one the API server or the
 * network closed meanwhile (while a Lambda was frozen, say), or one refused.
 */
const isWorthRetrying = (err: unknown) =>
  (err instanceof ApiException && err.code === 429) ||
  (isConnectionFailure(err) && !TIMED_OUT.has(err.cause?.code ?? ''));

/**
 * A failure that passes: the API server busy (429) or failing (5xx, the metrics API's own failures included), or the
 * connection to it failed.
 */
const isPassing = (err: unknown) =>
  err instanceof ApiException ? err.code === 429 || err.code >= 500 : isConnectionFailure(err);

const KUBE_FAILURES: FailureKinds = {
  retryable: isWorthRetrying,
  passing: isPassing,
  unavailable: 'the Kubernetes API server is busy or unreachable; retry shortly',
};

/**
 * How long a call to the API server may wait for a connection (TLS included), then for its answer's headers, and
 * between two chunks of its body. The library's own limits are undici's 300 s each, so a connection gone silent
 * (dropped while a Lambda was frozen) held a call until the Lambda timed out. The API server answers Berth's calls
 * (applies, lists of one namespace, a log tail) within a second or two.
 */
const KUBE_TIMEOUTS = { connectMs: 3_000, headersMs: 10_000, bodyIdleMs: 10_000 };

/** The connections to one API server, kept alive between calls and across tokens. */
interface Connections {
  server: string;
  caData: string;
  agent: Agent;
}

/**
 * A KubeConfig whose every call (the generated clients' and the metrics API's) goes through `pool`. The library
 * makes a new undici Agent for each call otherwise, so each call opened a TLS connection of its own and left it
 * open until undici's keep-alive timeout.
 */
class PooledKubeConfig extends KubeConfig {
  constructor(private readonly pool: Dispatcher) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setDispatcher(this.pool);
  }
}

/**
 * Talks to a cluster's API server through @kubernetes/client-node: server-side apply as field manager `berth`
 * (forced: Berth owns the fields it sets), and lists of what Berth manages, one call per namespace.
 */
export class KubeClient {
  private current:
    | { pool: Connections; token: string; objects: KubernetesObjectApi; core: CoreV1Api; metrics: Metrics }
    | undefined;

  private readonly timeouts: typeof KUBE_TIMEOUTS;
  private readonly retry: RetryOptions;

  constructor(
    private readonly access: ClusterAccess,
    options: { timeouts?: typeof KUBE_TIMEOUTS; retry?: RetryOptions } = {},
  ) {
    this.timeouts = options.timeouts ?? KUBE_TIMEOUTS;
    this.retry = options.retry ?? {};
  }

  /** Clients for the current token, rebuilt when the token rotates, over one pool of connections. */
  private async clients() {
    const { server, caData, token } = await this.access();
    const pool = this.poolFor(server, caData);
    if (this.current?.token === token && this.current.pool === pool) return this.current;
    const config = new PooledKubeConfig(pool.agent);
    config.loadFromOptions({
      clusters: [{ name: 'berth', server, caData, skipTLSVerify: false }],
      users: [{ name: 'berth', token }],
      contexts: [{ name: 'berth', cluster: 'berth', user: 'berth' }],
      currentContext: 'berth',
    });
    this.current = {
      pool,
      token,
      objects: KubernetesObjectApi.makeApiClient(config),
      core: config.makeApiClient(CoreV1Api),
      metrics: new Metrics(config),
    };
    return this.current;
  }

  /** The pool of the API server at `server`: the one in use, or a new one once the cluster's endpoint or CA moved. */
  private poolFor(server: string, caData: string): Connections {
    const pool = this.current?.pool;
    if (pool?.server === server && pool.caData === caData) return pool;
    void pool?.agent.close(); // lets calls under way finish
    const agent = new Agent({
      connect: {
        ca: Buffer.from(caData, 'base64'),
        timeout: this.timeouts.connectMs,
        // TCP keep-alive after 30 s idle, as the library sets it: within the 60 s a load balancer keeps a quiet one.
        keepAlive: true,
        keepAliveInitialDelay: 30_000,
      },
      headersTimeout: this.timeouts.headersMs,
      bodyTimeout: this.timeouts.bodyIdleMs,
    });
    return { server, caData, agent };
  }

  /**
   * One call to the API server, tried again while it is throttled or its connection fails at once, as Berth's AWS
   * calls are (withRetryThenUnavailable). A failure that passes becomes an UnavailableError, its cause kept: the API
   * answers 503 with Retry-After, a job's message is retried. Any other failure (a 404, a 409, a refusal) is thrown
   * as it is.
   */
  private call<T>(request: () => Promise<T>): Promise<T> {
    return withRetryThenUnavailable(request, KUBE_FAILURES, this.retry);
  }

  async apply(manifests: Manifest[]): Promise<void> {
    const { objects } = await this.clients();
    for (const manifest of manifests) {
      await this.call(() =>
        objects.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      );
    }
  }

  /** Deletes objects by kind and name; missing ones are no error. */
  async delete(objects: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>[]): Promise<void> {
    const { objects: api } = await this.clients();
    for (const object of objects) {
      try {
        await this.call(() => api.delete(object));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** The objects of a kind Berth manages in a namespace, in one list call. */
  private async managed<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
  ): Promise<T[]> {
    const { objects } = await this.clients();
    const list = await this.call(() =>
      objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, MANAGED),
    );
    return list.items;
  }

  /** The Deployments Berth manages in a namespace, in one list call. */
  deployments(namespace: string): Promise<V1Deployment[]> {
    return this.managed('apps/v1', 'Deployment', namespace);
  }

  /** The Ingresses Berth manages in a namespace, in one list call. */
  ingresses(namespace: string): Promise<V1Ingress[]> {
    return this.managed('networking.k8s.io/v1', 'Ingress', namespace);
  }

  /**
   * Sets one annotation on a Deployment by merge patch, as a field manager of its own: what Berth applies
   * server-side never carries it, so a later apply leaves it be.
   */
  async annotate(deployment: V1Deployment, key: string, value: string): Promise<void> {
    await this.mergePatch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: deployment.metadata?.name ?? '',
          namespace: deployment.metadata?.namespace ?? '',
          annotations: { [key]: value },
        },
      },
      ANNOTATING_MANAGER,
    );
  }

  /** A JSON merge patch of `object` (what it names and carries), as field manager `manager`. */
  private async mergePatch(object: KubernetesObject, manager: string): Promise<void> {
    const { objects } = await this.clients();
    await this.call(() =>
      objects.patch(object, undefined, undefined, manager, undefined, PatchStrategy.MergePatch),
    );
  }

  /** The namespaces Berth manages (its tenants'), in one list call. */
  async namespaces(): Promise<V1Namespace[]> {
    const { core } = await this.clients();
    return (await this.call(() => core.listNamespace({ labelSelector: MANAGED }))).items;
  }

  /** The pods Berth manages in a namespace (or, without one, in all of them), in one list call. */
  async pods(namespace?: string): Promise<V1Pod[]> {
    const { core } = await this.clients();
    const list = await this.call(() =>
      namespace
        ? core.listNamespacedPod({ namespace, labelSelector: MANAGED })
        : core.listPodForAllNamespaces({ labelSelector: MANAGED }),
    );
    return list.items;
  }

  /**
   * Removes a finalizer from the pod as it was read; false when the pod changed since (its resourceVersion moved
   * on), so the caller reads it again. A pod already gone is fine.
   */
  async removeFinalizer(pod: V1Pod, finalizer: string): Promise<boolean> {
    const finalizers = pod.metadata?.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return true;
    try {
      await this.mergePatch(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: pod.metadata?.name ?? '',
            namespace: pod.metadata?.namespace ?? '',
            resourceVersion: pod.metadata?.resourceVersion ?? '',
            finalizers: finalizers.filter((f) => f !== finalizer),
          },
        },
        FIELD_MANAGER,
      );
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return false;
      if (!isNotFound(err)) throw err;
    }
    return true;
  }

  /**
   * The app container's log lines, timestamped; with `previous`, those of the container that ran before its last
   * restart. Empty for a pod (or a previous container) that is no more.
   */
  async podLog(
    namespace: string,
    name: string,
    options: { tailLines?: number; sinceSeconds?: number; previous?: boolean },
  ): Promise<string> {
    const { core } = await this.clients();
    try {
      return await this.call(() =>
        core.readNamespacedPodLog({
          name,
          namespace,
          container: 'app',
          timestamps: true,
          ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
          ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
          ...(options.previous ? { previous: true } : {}),
        }),
      );
    } catch (err) {
      // A previous container the kubelet no longer has answers 400.
      if (isNotFound(err) || (options.previous && err instanceof ApiException && err.code === 400)) return '';
      throw err;
    }
  }

  /** Usage of every pod of a namespace from the metrics API (metrics-server), in one call. */
  async podMetrics(namespace: string): Promise<PodMetric[]> {
    const { metrics } = await this.clients();
    return (await this.call(() => metrics.getPodMetrics(namespace))).items;
  }
}
