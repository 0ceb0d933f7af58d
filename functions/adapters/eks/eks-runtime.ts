import type { PodMetric, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { eksFargateSize } from '../../../schemas/fargate-sizes.ts';
import type { PlanLimits } from '../../../schemas/plan.ts';
import { waitUnlessAborted } from '../../core/abortable-wait.ts';
import { exitedWith, stoppedOutsideBerth } from '../../core/app-events.ts';
import { appHostname, hostProblem, routableHostname } from '../../core/app-hosts.ts';
import { mapWithLimit } from '../../core/map-with-limit.ts';
import type {
  AppRecord,
  Clock,
  HeldWorkload,
  LogOptions,
  ObservedWorkload,
  Replica,
  ReplicaInsight,
  ReplicaSamples,
  ReplicaStats,
  ReplicaView,
  WorkloadRuntime,
  WorkloadSpec,
} from '../../core/ports.ts';
import type { Route53AppRecords } from '../route53/app-records.ts';
import { type ClusterScope, namespaceOf } from './cluster-scope.ts';
import type { KubeClient } from './kube-client.ts';
import {
  type AppsLoadBalancer,
  appManifests,
  DNS_TARGET_ANNOTATION,
  dnsTargetNote,
  ingressRouteOf,
  LABEL,
  LOAD_BALANCER_ANNOTATION,
  loadBalancerAttributes,
  MANIFESTS_ANNOTATION,
  MANIFESTS_REVISION,
  METERING_FINALIZER,
  parseDnsTarget,
  ROUTE_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  tenantNamespace,
} from './manifests.ts';

export interface EksSettings {
  /** What the install owns in the cluster: its tenants' namespaces are its own, another install's are left alone. */
  scope: ClusterScope;
  /** Apps answer at `<app>--<tenant>.<domain>`. */
  domain: string;
  /** The load balancer the apps share, as each app's Ingress states it. */
  balancer: AppsLoadBalancer;
  /** Where load balancer traffic comes from: the only ingress a tenant's pods admit. */
  loadBalancerCidrs: string[];
  /** Pods run on EKS Fargate: billed by the Fargate size AWS provisions, not by their requests. */
  fargate: boolean;
  /**
   * Where apps' names are pointed at the ingress group's load balancer (the controller makes it, so only its DNS
   * name is known, from the Ingresses' status), and how that name's canonical zone is found. Only what changes
   * workloads needs it; a runtime without it only reads.
   */
  records?: {
    dns: Pick<Route53AppRecords, 'point' | 'remove'>;
    zoneOf(dnsName: string): Promise<string | undefined>;
  };
  clock: Clock;
}

/**
 * A tenant's namespace, quota and policy are applied again after this long even when its plan did not change, so
 * one deleted or edited behind Berth's back is restored within it (server-side apply leaves an unchanged one as it
 * is).
 */
const TENANT_REAPPLY_MS = 10 * 60_000;

/**
 * The names of a namespace's apps are checked against the load balancer their Ingress has now at least this often,
 * though each was pointed: one made again (deleted by hand, or an ingress group renamed) has another DNS name, and
 * every record pointed at the old one would lead nowhere.
 */
const NAMES_RECHECK_MS = 10 * 60_000;

const POD_LOG_POLL_MS = 2000;

/** Namespaces listed at once by a sweep. */
const LISTS_IN_FLIGHT = 8;

/** `500m` → 0.5, `2` → 2. */
function cores(quantity: string | undefined): number {
  if (!quantity) return 0;
  if (quantity.endsWith('n')) return Number(quantity.slice(0, -1)) / 1e9;
  if (quantity.endsWith('u')) return Number(quantity.slice(0, -1)) / 1e6;
  if (quantity.endsWith('m')) return Number(quantity.slice(0, -1)) / 1000;
  return Number(quantity);
}

/** How often metrics-server scrapes, its default: the window of a pod's usage when the usage names none. */
const METRICS_SERVER_RESOLUTION_SECONDS = 15;

const GO_DURATION_UNITS: Record<string, number> = {
  h: 3600,
  m: 60,
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  µs: 1e-6,
  ns: 1e-9,
};

/** A Go duration, as metrics-server writes a window (`15.047s`, `1m0s`), in seconds; 0 if it is none. */
function seconds(duration: string | undefined): number {
  let total = 0;
  for (const [, amount, unit] of (duration ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g))
    total += Number(amount) * (GO_DURATION_UNITS[unit ?? ''] ?? 0);
  return total;
}

/** `512Mi` → 512, `1Gi` → 1024, `134217728` → 128 (MiB). */
function mebibytes(quantity: string | undefined): number {
  if (!quantity) return 0;
  const units: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };
  const unit = Object.keys(units).find((u) => quantity.endsWith(u));
  return unit ? Number(quantity.slice(0, -unit.length)) * (units[unit] ?? 1) : Number(quantity) / 1024 / 1024;
}

/** A replica id names the pod, `<namespace>/<pod>`; a pod's metrics name it the same way. */
const podId = (pod: Pick<V1Pod, 'metadata'> | PodMetric) =>
  `${pod.metadata?.namespace}/${pod.metadata?.name}`;
function parsePodId(id: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = id.split('/');
  return { namespace, name };
}

const iso = (value: Date | string | undefined) => (value ? new Date(value).toISOString() : null);

/**
 * The Runtime on Kubernetes (EKS): an app is a Deployment, Service and Ingress in its tenant's namespace, applied
 * server-side; replicas are its pods. Observation is one list of Deployments and one of pods per namespace; a pod
 * that stopped stays listed (its metering finalizer) until Berth has recorded its stop.
 */
export class EksRuntime implements WorkloadRuntime {
  /** The plan limits last applied to each tenant's namespace in this process, and when. */
  private readonly tenants = new Map<string, { limits: string; atMs: number }>();
  /**
   * The pods of the last lists, by replica id: releasing a stopped pod needs its resourceVersion and usage needs its
   * limits, both already read by the observation that found it.
   */
  private readonly pods = new Map<string, V1Pod>();
  /** When each namespace's Ingresses were last read, to point its apps' names (NAMES_RECHECK_MS). */
  private readonly namesCheckedAt = new Map<string, number>();

  constructor(
    private readonly kube: KubeClient,
    private readonly settings: EksSettings,
  ) {}

  /** The tenant's namespace in this install. */
  private namespaceOf(tenantId: string): string {
    return namespaceOf(this.settings.scope, tenantId);
  }

  /**
   * Whether a namespace is the home here of the tenant its object names (its tenant label): another install's on the
   * same cluster, or one labelled by hand, is not.
   */
  private isHome(namespace: string | undefined, tenantId: string | undefined): tenantId is string {
    return tenantId !== undefined && namespace === this.namespaceOf(tenantId);
  }

  /**
   * The pods of a namespace (of all, without one) that are this install's: each in its tenant's home. A list across
   * namespaces also finds those of another install on the same cluster, which are left alone.
   */
  private async ownPods(namespace: string | undefined): Promise<V1Pod[]> {
    return (await this.kube.pods(namespace)).filter((pod) =>
      this.isHome(pod.metadata?.namespace, pod.metadata?.labels?.[LABEL.tenant]),
    );
  }

  private records(): NonNullable<EksSettings['records']> {
    const { records } = this.settings;
    if (!records)
      throw new Error('this EKS runtime only reads: it was given no DNS records to point apps at');
    return records;
  }

  async ensureTenant(tenantId: string, limits: PlanLimits): Promise<void> {
    const wanted = JSON.stringify(limits);
    const nowMs = this.settings.clock.now().getTime();
    const last = this.tenants.get(tenantId);
    if (last?.limits === wanted && nowMs - last.atMs < TENANT_REAPPLY_MS) return;
    await this.kube.apply(
      tenantNamespace(this.namespaceOf(tenantId), tenantId, limits, {
        loadBalancerCidrs: this.settings.loadBalancerCidrs,
      }),
    );
    this.tenants.set(tenantId, { limits: wanted, atMs: nowMs });
  }

  /**
   * Tenants' namespaces and the Deployments in them: one list of namespaces, then one list per namespace. Namespaces
   * already being deleted are left out, and any that is not its tenant label's home here (isHome: another install's,
   * or not one Berth made).
   */
  async holdings(): Promise<{ homes: string[]; workloads: HeldWorkload[] }> {
    const homes = (await this.kube.namespaces()).flatMap(({ metadata, status }) => {
      const tenantId = metadata?.labels?.[LABEL.tenant];
      return this.isHome(metadata?.name, tenantId) && status?.phase !== 'Terminating' ? [tenantId] : [];
    });
    const perTenant = await mapWithLimit(homes, LISTS_IN_FLIGHT, async (tenantId) =>
      (await this.kube.deployments(this.namespaceOf(tenantId))).map((d) => ({
        tenantId,
        app: d.metadata?.name ?? '',
        incarnation: d.metadata?.labels?.[LABEL.appUid] ?? '',
      })),
    );
    return { homes, workloads: perTenant.flat() };
  }

  /**
   * Removes an orphan's objects, when no app has its name. Its objects are named for the app, so while one does,
   * that app's passes apply its own spec over them instead.
   */
  async removeOrphan(workload: HeldWorkload, routeFree: boolean): Promise<boolean> {
    if (routeFree) await this.deleteWorkload(workload.tenantId, { name: workload.app });
    return routeFree;
  }

  /** Deletes the tenant's namespace; Kubernetes then deletes what is left in it. */
  async removeTenant(tenantId: string): Promise<void> {
    this.tenants.delete(tenantId);
    await this.kube.delete([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespaceOf(tenantId) } },
    ]);
  }

  /**
   * The tenant's namespace holds all its apps: one list of Deployments and one of pods. Apps whose name does not
   * point at the load balancer yet are pointed on the way, once the controller has routed their Ingress.
   */
  async observe(tenantId: string): Promise<{ workloads: ObservedWorkload[]; replicas: Replica[] }> {
    const namespace = this.namespaceOf(tenantId);
    const [deployments, pods] = await Promise.all([
      this.kube.deployments(namespace),
      this.ownPods(namespace),
    ]);
    this.remember(pods, namespace);
    await this.pointNames(tenantId, namespace, deployments);
    const { balancer } = this.settings;
    const attributes = loadBalancerAttributes(balancer);
    const routeOf = (d: V1Deployment) =>
      ingressRouteOf(balancer, this.hostOf(tenantId, d.metadata?.name ?? ''));
    return {
      workloads: deployments.map((d) => workloadOf(d, pods, { attributes, route: routeOf(d) })),
      replicas: this.replicasOf(pods),
    };
  }

  /** The name an app answers at: `<app>--<tenant>.<domain>`, in the install's domain. */
  private hostOf(tenantId: string, app: string): string {
    return appHostname(tenantId, app, this.settings.domain);
  }

  /**
   * Points the names of apps not pointed yet at the load balancer their Ingress got (its address appears in the
   * Ingress's status once the controller has made the route; the install's first app waits for the load balancer
   * itself), and notes it on the Deployment; every NAMES_RECHECK_MS, points again those whose Ingress has another load
   * balancer now. An app pointed under the install's earlier domain is pointed at once under its domain now, the
   * earlier name's record removed where the install may (removeRecord). A namespace whose apps are all pointed costs
   * one read of its Ingresses per NAMES_RECHECK_MS.
   */
  private async pointNames(tenantId: string, namespace: string, deployments: V1Deployment[]): Promise<void> {
    const live = deployments.filter((d) => !d.metadata?.deletionTimestamp);
    if (live.length === 0) return;
    const nowMs = this.settings.clock.now().getTime();
    const notedOf = (d: V1Deployment) => parseDnsTarget(d.metadata?.annotations?.[DNS_TARGET_ANNOTATION]);
    const waiting = live.some((d) => notedOf(d)?.name !== this.hostOf(tenantId, d.metadata?.name ?? ''));
    const checkedAt = this.namesCheckedAt.get(namespace);
    if (!waiting && checkedAt !== undefined && nowMs - checkedAt < NAMES_RECHECK_MS) return;
    const ingresses = await this.kube.ingresses(namespace);
    this.namesCheckedAt.set(namespace, nowMs);
    for (const deployment of live) {
      const app = deployment.metadata?.name ?? '';
      const host = this.hostOf(tenantId, app);
      const ingress = ingresses.find((i) => i.metadata?.name === app);
      const dnsName = ingress?.status?.loadBalancer?.ingress?.[0]?.hostname;
      const noted = notedOf(deployment);
      // A name the load balancer cannot route is not pointed: applying the app fails, saying why (routableHostname).
      if (!dnsName || (noted?.target.dnsName === dnsName && noted.name === host) || hostProblem(host))
        continue;
      const zoneId = await this.records().zoneOf(dnsName);
      if (!zoneId) continue;
      await this.records().dns.point(host, { dnsName, zoneId });
      if (noted?.name && noted.name !== host) await this.removeRecord(noted.name, noted.target);
      await this.kube.annotate(deployment, DNS_TARGET_ANNOTATION, dnsTargetNote({ zoneId, dnsName }, host));
    }
  }

  /**
   * Removes the record of `name` to the load balancer `target`, if the name lies under the install's domain: its role
   * writes only those.
   */
  private async removeRecord(name: string, target: { zoneId: string; dnsName: string }): Promise<void> {
    if (name.endsWith(`.${this.settings.domain}`)) await this.records().dns.remove(name, target);
  }

  async applyWorkload(spec: WorkloadSpec): Promise<{ refused: string } | undefined> {
    const host = routableHostname(spec.tenantId, spec.app, this.settings.domain);
    const namespace = this.namespaceOf(spec.tenantId);
    const manifests = appManifests(
      spec,
      namespace,
      { balancer: this.settings.balancer, host },
      { fargate: this.settings.fargate },
    );
    // Nothing applied for a tenant may land outside its namespace.
    for (const manifest of manifests) {
      if (manifest.metadata.namespace !== namespace)
        throw new Error(`refusing to apply ${manifest.kind} outside namespace ${namespace}`);
    }
    try {
      await this.kube.apply(manifests);
      // Never refused as the tenant's: Kubernetes takes every spec the API takes (its objects may be 1.5 MB), so an
      // invalid object (422) would be Berth's own fault, thrown to be seen.
      return undefined;
    } catch (err) {
      // Its namespace may be gone (deleted behind Berth's back, or with a tenant of the same id): the next pass
      // applies it again rather than trusting what this process applied before.
      this.tenants.delete(spec.tenantId);
      throw err;
    }
  }

  async deleteWorkload(tenantId: string, app: Pick<AppRecord, 'name'>): Promise<boolean> {
    const metadata = { name: app.name, namespace: this.namespaceOf(tenantId) };
    const deployment = (await this.kube.deployments(metadata.namespace)).find(
      (d) => d.metadata?.name === app.name,
    );
    const pointed = parseDnsTarget(deployment?.metadata?.annotations?.[DNS_TARGET_ANNOTATION]);
    if (pointed) await this.removeRecord(pointed.name ?? this.hostOf(tenantId, app.name), pointed.target);
    await this.kube.delete([
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata },
      { apiVersion: 'v1', kind: 'Service', metadata },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata },
    ]);
    // Kubernetes collects the pods; they stay observed (and metered) until they are gone.
    return true;
  }

  /**
   * Lets a stopped pod go once its stop is recorded: its metering finalizer removed, and a pod the kubelet ended
   * (its node's pressure, a node failure), which Kubernetes leaves listed until something deletes it, deleted — its
   * ReplicaSet has started another.
   */
  async releaseReplica(replica: Replica): Promise<void> {
    const { namespace, name } = parsePodId(replica.id);
    // The pod as this pass observed it; read again only if it changed since.
    const observed = this.pods.get(replica.id);
    if (!observed || !(await this.kube.removeFinalizer(observed, METERING_FINALIZER))) {
      const pod = (await this.kube.pods(namespace)).find((p) => p.metadata?.name === name);
      if (pod && !(await this.kube.removeFinalizer(pod, METERING_FINALIZER))) {
        throw new Error(`pod ${replica.id} keeps changing; its release is retried next pass`);
      }
    }
    this.pods.delete(replica.id);
    if (!replica.stopRequested)
      await this.kube.delete([{ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }]);
  }

  async listReplicas(filter: { tenantId?: string; appUid?: string } = {}): Promise<Replica[]> {
    const namespace = filter.tenantId ? this.namespaceOf(filter.tenantId) : undefined;
    const pods = await this.ownPods(namespace);
    this.remember(pods, namespace);
    return this.replicasOf(pods).filter((r) => !filter.appUid || r.appUid === filter.appUid);
  }

  async *replicaLogs(replica: Replica, options: LogOptions): AsyncIterable<string> {
    if (options.tail === 0 && !options.follow) return;
    const { namespace, name } = parsePodId(replica.id);
    // Lines start with their RFC 3339 timestamp: a line at or before `last` was given already, or (tail=0) was
    // written before the request.
    let last = options.tail === 0 ? new Date().toISOString() : '';
    let sinceSeconds = options.since
      ? Math.max(1, Math.ceil((Date.now() - options.since.getTime()) / 1000))
      : undefined;
    let tailLines = options.tail;
    // A container that restarted (a crash loop, say) said why in the one before it: its lines come first, once.
    let previous = (replica.restarts ?? 0) > 0;
    for (;;) {
      const window = {
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      };
      const lines = [
        ...(previous ? await this.podLines(namespace, name, { ...window, previous }) : []),
        ...(await this.podLines(namespace, name, window)),
      ];
      previous = false;
      for (const line of tailLines ? lines.slice(-tailLines) : lines) {
        if (line <= last) continue;
        last = line;
        yield line;
      }
      if (!options.follow || !(await waitUnlessAborted(POD_LOG_POLL_MS, options.signal))) return;
      tailLines = undefined;
      sinceSeconds = POD_LOG_POLL_MS / 1000 + 1;
    }
  }

  private async podLines(namespace: string, name: string, options: Parameters<KubeClient['podLog']>[2]) {
    return (await this.kube.podLog(namespace, name, options)).split('\n').filter(Boolean);
  }

  /** metrics-server keeps no history: each pod's latest usage, over the window it measured it in. */
  async replicaStats(replicas: Replica[]): Promise<ReplicaSamples> {
    const ids = replicas.map((r) => r.id);
    const stats = new Map<string, ReplicaStats>();
    let windowSeconds = 0;
    const namespaces = [...new Set(ids.map((id) => parsePodId(id).namespace))];
    for (const namespace of namespaces) {
      const metrics = await this.kube.podMetrics(namespace);
      // Limits from the pods the caller listed; a namespace with a pod not seen yet is listed again.
      if (ids.some((id) => parsePodId(id).namespace === namespace && !this.pods.has(id))) {
        this.remember(await this.ownPods(namespace), namespace);
      }
      for (const metric of metrics) {
        const id = podId(metric);
        const limit = this.pods.get(id)?.spec?.containers[0]?.resources?.limits;
        if (!ids.includes(id) || !limit) continue;
        stats.set(id, statsOf(metric, cores(limit.cpu), mebibytes(limit.memory)));
        windowSeconds = Math.max(windowSeconds, seconds(metric.window));
      }
    }
    return {
      windowSeconds: Math.max(1, Math.round(windowSeconds || METRICS_SERVER_RESOLUTION_SECONDS)),
      stats,
    };
  }

  /** How the API and the autoscaler see EKS apps' pods. */
  view(): ReplicaView {
    return {
      runtime: this,
      logs: this,
      metrics: this,
      replicaInsights: async (_app, replicas) => new Map(replicas.map((r) => [r.id, podInsight(r)])),
    };
  }

  /** Keeps a list's pods, forgetting those of the listed namespace (or of all, for a list of all) not in it. */
  private remember(pods: V1Pod[], namespace: string | undefined) {
    for (const id of this.pods.keys()) {
      if (!namespace || parsePodId(id).namespace === namespace) this.pods.delete(id);
    }
    for (const pod of pods) this.pods.set(podId(pod), pod);
  }

  private replicasOf(pods: V1Pod[]): Replica[] {
    return pods.flatMap((pod) => {
      const replica = replicaOf(pod);
      if (!replica || !this.settings.fargate) return replica ? [replica] : [];
      // EKS on Fargate provisions (and bills) the next Fargate size above the requests plus 256 MiB.
      const size = eksFargateSize(replica.cpu, replica.memoryMiB);
      return [size ? { ...replica, cpu: size.cpu, memoryMiB: size.memory } : replica];
    });
  }
}

/** Kubernetes probes pods itself: its readiness and restart count are the insight. */
function podInsight(replica: Replica): ReplicaInsight {
  const restarts = replica.restarts ?? 0;
  const ready = replica.ready === true;
  // Running, not ready, and already restarted: the probes are failing, not just waiting for a first success.
  return { ready, unhealthy: replica.state === 'running' && !ready && restarts > 0, restarts };
}

function statsOf(metric: PodMetric, cpuLimit: number, memoryLimitMiB: number): ReplicaStats {
  const usage = metric.containers.find((c) => c.name === 'app')?.usage;
  const memoryMiB = mebibytes(usage?.memory);
  return {
    cpuPercent: cpuLimit ? (100 * cores(usage?.cpu)) / cpuLimit : 0,
    memoryMiB,
    memoryPercent: memoryLimitMiB ? (100 * memoryMiB) / memoryLimitMiB : 0,
  };
}

/** Waiting reasons of a container on its way to running, which say nothing of a failure. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing']);
/** How much of the kubelet's message a deployment's reason quotes. */
const MESSAGE_CHARS = 300;

const quoted = (reason: string, message: string | undefined) =>
  message ? `${reason}: ${message.slice(0, MESSAGE_CHARS)}` : reason;

/** The pods of a Deployment's template (its current revision). */
function templatePods(deployment: V1Deployment, pods: V1Pod[]): V1Pod[] {
  const revision = deployment.spec?.template.metadata?.labels?.[LABEL.revision];
  return pods.filter(
    (p) =>
      p.metadata?.labels?.[LABEL.app] === deployment.metadata?.name &&
      p.metadata?.labels?.[LABEL.revision] === revision,
  );
}

/** The scheduler's word that it could not place a pod (no node or Fargate profile fits it); undefined once placed. */
const unscheduled = (pod: V1Pod) =>
  pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');

/**
 * Why the pods of a Deployment's template (`own`) are not ready, in Kubernetes' words, where one says: a container
 * waiting on something other than its start (ErrImagePull, ImagePullBackOff, CreateContainerConfigError…), its last
 * exit, a pod the scheduler could not place.
 */
function whyPodsWait(own: V1Pod[]): string | undefined {
  for (const pod of own) {
    const status = pod.status?.containerStatuses?.find((c) => c.name === 'app');
    const waiting = status?.state?.waiting;
    const exited = status?.lastState?.terminated;
    if (exited) return `its container ${exitedWith(exited.exitCode, exited.reason)}`;
    if (waiting?.reason && !STARTING.has(waiting.reason)) return quoted(waiting.reason, waiting.message);
    const notPlaced = unscheduled(pod);
    if (notPlaced) return quoted('not scheduled', notPlaced.message);
  }
  return undefined;
}

/**
 * What the cluster runs of an app; `ingress`, what its Ingress must state now: the load balancer attributes
 * (loadBalancerAttributes) and where it routes from (ingressRouteOf).
 */
function workloadOf(
  deployment: V1Deployment,
  pods: V1Pod[],
  ingress: { attributes: string; route: string },
): ObservedWorkload {
  // The controller's conditions speak of the template it last looked at: until it has seen the one applied
  // (observedGeneration), a failed rollout's would be taken for the new one's, as `kubectl rollout status` waits too.
  const seen = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const progressing = seen ? deployment.status?.conditions?.find((c) => c.type === 'Progressing') : undefined;
  const annotations = deployment.metadata?.annotations ?? {};
  // Applied with older manifests, or with load balancer attributes, an ingress group or a domain the install has
  // since changed: no spec matches it, so the pass applies the app's spec again.
  const current =
    annotations[MANIFESTS_ANNOTATION] === MANIFESTS_REVISION &&
    annotations[LOAD_BALANCER_ANNOTATION] === ingress.attributes &&
    annotations[ROUTE_ANNOTATION] === ingress.route;
  // A pod the scheduler cannot place starts no container: the operator's to mend (a Fargate profile, nodes).
  const own = templatePods(deployment, pods);
  const notPlaced = own.map(unscheduled).find(Boolean);
  const notStarting = notPlaced && quoted('Kubernetes could not schedule a pod', notPlaced.message);
  return {
    app: deployment.metadata?.name ?? '',
    specHash: current ? (annotations[SPEC_HASH_ANNOTATION] ?? '') : '',
    rolloutFailure:
      progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded'
        ? ['the Deployment did not progress within its deadline', whyPodsWait(own)].filter(Boolean).join(': ')
        : null,
    ...(notStarting ? { notStarting } : {}),
  };
}

/** Termination reasons that say no more than the exit code does. */
const PLAIN_EXITS = new Set(['Completed', 'Error']);

/** A termination reason that says more than the exit code (`OOMKilled`); undefined for a plain one. */
const tellingReason = (reason: string | undefined) =>
  reason && !PLAIN_EXITS.has(reason) ? reason : undefined;

/**
 * Why Kubernetes stopped a pod, from its `DisruptionTarget` condition: an eviction (a drain, the kubelet's node
 * pressure or shutdown), a preemption, its node's taint; undefined for a pod stopped otherwise.
 */
function disruptionOf(pod: V1Pod): string | undefined {
  const condition = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (!condition) return undefined;
  return [condition.reason, condition.message].filter(Boolean).join(': ') || 'DisruptionTarget';
}

/** A pod as a replica; undefined for a pod without Berth's labels. */
export function replicaOf(pod: V1Pod): Replica | undefined {
  const labels = pod.metadata?.labels ?? {};
  const tenantId = labels[LABEL.tenant];
  const app = labels[LABEL.app];
  const appUid = labels[LABEL.appUid];
  if (!tenantId || !app || !appUid) return undefined;
  const container = pod.spec?.containers[0];
  const status = pod.status?.containerStatuses?.find((c) => c.name === 'app');
  const running = status?.state?.running;
  const terminated = status?.state?.terminated;
  const exited = status?.lastState?.terminated;
  const phase = pod.status?.phase;
  const stopped =
    phase === 'Succeeded' || phase === 'Failed' || (!!pod.metadata?.deletionTimestamp && !!terminated);
  const port = container?.ports?.[0]?.containerPort;
  const disruption = stopped ? disruptionOf(pod) : undefined;
  const exitReason = disruption ? stoppedOutsideBerth(disruption) : tellingReason(terminated?.reason);
  return {
    id: podId(pod),
    tenantId,
    app,
    appUid,
    revision: Number(labels[LABEL.revision]),
    // Pods of a Deployment have no generation (they carry the revision: scaling must not replace them) and no slot;
    // the Deployment keeps the count, and pods are told apart by name.
    generation: 0,
    slot: 0,
    state: stopped ? 'exited' : running ? 'running' : 'pending',
    cpu: cores(container?.resources?.requests?.cpu),
    memoryMiB: mebibytes(container?.resources?.requests?.memory),
    createdAt: iso(pod.metadata?.creationTimestamp) ?? new Date(0).toISOString(),
    // A pod's life is billed from its start to its end, container restarts included.
    startedAt: iso(pod.status?.startTime ?? running?.startedAt ?? terminated?.startedAt),
    stoppedAt: stopped ? (iso(terminated?.finishedAt) ?? iso(pod.metadata?.deletionTimestamp)) : null,
    exitCode: terminated?.exitCode ?? null,
    ...(exitReason ? { exitReason } : {}),
    ...(stopped && pod.metadata?.deletionTimestamp ? { stopRequested: true } : {}),
    ...(!stopped && pod.metadata?.deletionTimestamp ? { stopping: true } : {}),
    ...(disruption ? { stoppedOutside: disruption } : {}),
    endpoint: pod.status?.podIP && port && !stopped ? { host: pod.status.podIP, port } : null,
    ready:
      !stopped && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    restarts: status?.restartCount ?? 0,
    ...(exited?.finishedAt
      ? {
          lastExit: {
            exitCode: exited.exitCode,
            reason: tellingReason(exited.reason) ?? null,
            at: new Date(exited.finishedAt).toISOString(),
          },
        }
      : {}),
  };
}
