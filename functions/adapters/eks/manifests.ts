import type { HealthCheck } from '../../../schemas/app.ts';
import type { PlanLimits } from '../../../schemas/plan.ts';
import { DROPPED_CAPABILITIES } from '../../core/container-capabilities.ts';
import type { WorkloadSpec } from '../../core/ports.ts';
import { DEFAULT_HEALTH_CHECK } from '../../core/reconcile-plan.ts';
import { replicaEnv } from '../../core/replica-env.ts';
import { workloadHash } from '../../core/workloads.ts';
import { APPS_TLS_POLICY } from '../alb/apps-listener.ts';
import { TARGET_DRAIN_SECONDS, targetGroupHealthCheck } from '../alb/target-group-settings.ts';
import { fullImageName } from '../oci/full-image-name.ts';

/** Kubernetes objects as plain JSON (what server-side apply takes). */
export type Manifest = { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<
  string,
  unknown
>;

export const FIELD_MANAGER = 'berth';
export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  tenant: 'berth.dev/tenant',
  app: 'berth.dev/app',
  appUid: 'berth.dev/app-uid',
  revision: 'berth.dev/revision',
  generation: 'berth.dev/generation',
} as const;
/** The pod template's annotation holding the app's last restart: changing it rolls every pod. */
const RESTARTED_AT_ANNOTATION = 'berth.dev/restarted-at';
/**
 * The Deployment's annotation holding which name Berth pointed where (`<zone id>/<load balancer DNS name>/<name>`),
 * once the load balancer controller had routed its Ingress: the next passes look no further, and a deletion, or a
 * move to the name under the install's new domain, knows which record to remove.
 */
export const DNS_TARGET_ANNOTATION = 'berth.dev/dns-target';

/** Where a DNS_TARGET_ANNOTATION says the app's name was pointed; `name` is undefined in a note made without it. */
export function parseDnsTarget(note: string | undefined) {
  if (!note) return undefined;
  const [zoneId = '', dnsName = '', name] = note.split('/');
  return { target: { zoneId, dnsName }, name };
}

/** The DNS_TARGET_ANNOTATION for `name` pointed at the load balancer `target`. */
export const dnsTargetNote = (target: { zoneId: string; dnsName: string }, name: string) =>
  `${target.zoneId}/${target.dnsName}/${name}`;
/** The Deployment's annotation holding the fingerprint of the spec Berth applied. */
export const SPEC_HASH_ANNOTATION = 'berth.dev/spec-hash';
/** The Deployment's annotation holding the MANIFESTS_REVISION Berth applied it with. */
export const MANIFESTS_ANNOTATION = 'berth.dev/manifests';
/** The Deployment's annotation holding the load balancer attributes its Ingress was applied with. */
export const LOAD_BALANCER_ANNOTATION = 'berth.dev/load-balancer';
/** The Deployment's annotation holding where its Ingress routes from (ingressRouteOf). */
export const ROUTE_ANNOTATION = 'berth.dev/route';

/**
 * Where an app's Ingress routes from: its ingress group (one load balancer) and its name under the install's domain.
 * An app applied with another (the install's `eks.ingressGroup` or `domain` changed since) is applied again.
 */
export const ingressRouteOf = (balancer: AppsLoadBalancer, host: string) => `${balancer.group} ${host}`;
/**
 * What a spec renders to, by revision: raised with every change to appManifests, so that each app is applied once
 * more after an upgrade rather than at its next change. 2: the Ingress carries the app's health check and drain time,
 * and redirects HTTP to HTTPS. 3: a stopping pod serves through its target's drain (its pods are replaced once, by a
 * rolling update), and evictions take one pod at a time. 4: `command` is the entrypoint's arguments (`args`), as on
 * the other runtimes, no longer a replacement of the entrypoint. (Placing pods by their image's architectures needed
 * no raise: only revisions made since carry their platforms, and the spec hash of each of those is new anyway.) 5: the
 * Ingress names the apps' TLS policy and drops invalid header fields. 6: a `$` in the app's command or env reaches the
 * container as it is, as on the other runtimes (Kubernetes expanded `$(NAME)` and reduced `$$` to `$`); the pods of an
 * app whose command or env holds one are replaced once, by a rolling update.
 */
export const MANIFESTS_REVISION = '6';

/** Where the EKS apps' load balancer writes its access logs in the install's bucket (the Fargate apps' under `apps`). */
export const EKS_ACCESS_LOGS_PREFIX = 'eks-apps';

/** The load balancer the apps' Ingresses share (an ingress group), as each of them states it. */
export interface AppsLoadBalancer {
  /** The AWS Load Balancer Controller's ingress group: one ALB. */
  group: string;
  idleTimeoutSeconds: number;
  /** The bucket it writes access logs to, under EKS_ACCESS_LOGS_PREFIX; none without. */
  accessLogsBucket?: string;
}

/**
 * The load balancer's attributes, as the Fargate apps' have them. They belong to the load balancer, not to one app:
 * every Ingress of the group must state them alike, or the controller refuses the whole group, so an app applied with
 * others (LOAD_BALANCER_ANNOTATION) is applied again. Header fields that are not valid HTTP are dropped, not passed on.
 */
export function loadBalancerAttributes(balancer: AppsLoadBalancer): string {
  const { idleTimeoutSeconds, accessLogsBucket } = balancer;
  return [
    `idle_timeout.timeout_seconds=${idleTimeoutSeconds}`,
    'routing.http.drop_invalid_header_fields.enabled=true',
    ...(accessLogsBucket
      ? [
          'access_logs.s3.enabled=true',
          `access_logs.s3.bucket=${accessLogsBucket}`,
          `access_logs.s3.prefix=${EKS_ACCESS_LOGS_PREFIX}`,
        ]
      : []),
  ].join(',');
}

/** How long a pod has to stop after SIGTERM: ECS's default stop timeout for a Fargate task. */
const STOP_SECONDS = 30;

/**
 * Every pod carries this finalizer: a stopped pod stays listed until the meter has recorded its stop, then Berth
 * removes the finalizer — so no second of a pod goes unbilled, however briefly it lived.
 */
export const METERING_FINALIZER = 'berth.dev/metering';

const mebibytes = (mib: number) => `${mib}Mi`;
const millicores = (cpu: number) => `${Math.round(cpu * 1000)}m`;

/**
 * The namespace's quota is this many times the plan. The API already holds what a tenant asks for to its plan; the
 * quota is the backstop past that. A rolling update starts new pods before the old ones stop (a quarter more at a
 * time, ROLLOUT) and a stopping pod counts until it has exited, so a quota of the plan itself would stall every
 * deployment of a tenant at its limits. Twice the plan, as ECS lets a service deployment run at 200 %.
 */
const QUOTA_HEADROOM = 2;

/** How a Deployment replaces its pods: new ones first, at most a quarter more at a time, none down meanwhile. */
const ROLLOUT = { maxSurge: '25%', maxUnavailable: 0 } as const;

/**
 * EC2's instance metadata service: on an EC2 node it hands out the node role's credentials (pulling from every ECR
 * repository of the account, managing network interfaces) to whoever can reach it, a tenant's pod included when the
 * node's hop limit is 2, as EKS managed node groups set it. EKS on Fargate has none to reach.
 */
const INSTANCE_METADATA_ADDRESS = '169.254.169.254';

export interface TenantNamespaceOptions {
  /** Where load balancer traffic comes from (the ALB's subnets), the only ingress admitted. */
  loadBalancerCidrs: string[];
}

/**
 * A tenant's namespace (named by its install's ClusterScope) with what confines it: the baseline Pod Security
 * Standard, a ResourceQuota from its plan (the vCPU, memory and instances the API enforces, with room for rollouts:
 * QUOTA_HEADROOM), a LimitRange so no container runs unbounded, a NetworkPolicy that denies all ingress except from
 * the load balancer, and one that lets pods reach anything but the instance metadata service (both hold where the
 * cluster enforces network policies).
 */
export function tenantNamespace(
  namespace: string,
  tenantId: string,
  limits: PlanLimits,
  options: TenantNamespaceOptions,
): Manifest[] {
  const metadata = (name: string) => ({
    name,
    namespace,
    labels: { [LABEL.managedBy]: FIELD_MANAGER, [LABEL.tenant]: tenantId },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          [LABEL.managedBy]: FIELD_MANAGER,
          [LABEL.tenant]: tenantId,
          // Pod Security Admission turns away any pod beyond the baseline (privileged, host namespaces or paths,
          // added capabilities), whoever asks; Berth's own pods are well within it. Pinned, so a cluster upgrade
          // never changes what a tenant's namespace admits.
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/enforce-version': 'v1.30',
          // The load balancer controller adds a readiness gate to each app pod: it is ready once its ALB target is
          // healthy, so a rolling update never replaces serving pods faster than the ALB takes the new ones in.
          'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: metadata('berth-plan'),
      spec: {
        hard: {
          'requests.cpu': millicores(limits.vcpu * QUOTA_HEADROOM),
          'limits.cpu': millicores(limits.vcpu * QUOTA_HEADROOM),
          'requests.memory': mebibytes(limits.memoryMiB * QUOTA_HEADROOM),
          'limits.memory': mebibytes(limits.memoryMiB * QUOTA_HEADROOM),
          pods: String(limits.apps * limits.instancesPerApp * QUOTA_HEADROOM),
          'services.loadbalancers': '0',
          'services.nodeports': '0',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: metadata('berth-defaults'),
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '250m', memory: '512Mi' },
            defaultRequest: { cpu: '250m', memory: '512Mi' },
            max: { cpu: '16', memory: '120Gi' },
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('berth-ingress-from-load-balancer'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: options.loadBalancerCidrs.map((cidr) => ({ ipBlock: { cidr } })) }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('berth-egress-not-instance-metadata'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              { ipBlock: { cidr: '0.0.0.0/0', except: [`${INSTANCE_METADATA_ADDRESS}/32`] } },
              // Pods anywhere in the cluster (the cluster's DNS among them) by selector as well: some network
              // policy engines (Cilium's) never match a pod by an address block. Another tenant's pods still admit
              // only the load balancer.
              { namespaceSelector: {} },
            ],
          },
        ],
      },
    },
  ];
}

/** How often a starting pod is probed, so that it takes traffic soon after it first answers. */
const STARTUP_PROBE_SECONDS = 2;

/**
 * Startup probes a pod may fail before it is restarted: as many as fit in its grace period, then
 * `unhealthyThreshold` failures an interval apart, the first at the end of the grace period, as the local
 * reconciler counts them.
 */
function startupFailureThreshold(check: HealthCheck | null): number {
  const { gracePeriodSeconds, intervalSeconds, unhealthyThreshold } = check ?? DEFAULT_HEALTH_CHECK;
  const seconds = gracePeriodSeconds + (unhealthyThreshold - 1) * intervalSeconds;
  return Math.max(1, Math.ceil(seconds / STARTUP_PROBE_SECONDS));
}

/**
 * The app's health check as the kubelet runs it: a pod takes traffic after `healthyThreshold` good answers and loses
 * it after `unhealthyThreshold` bad ones, as an ALB target does; the same failures restart it once it has started.
 */
function probes(check: HealthCheck | null, port: number) {
  const action = check?.path ? { httpGet: { path: check.path, port } } : { tcpSocket: { port } };
  const { intervalSeconds, timeoutSeconds, healthyThreshold, unhealthyThreshold } =
    check ?? DEFAULT_HEALTH_CHECK;
  const base = { ...action, periodSeconds: intervalSeconds, timeoutSeconds, initialDelaySeconds: 0 };
  return {
    readinessProbe: { ...base, successThreshold: healthyThreshold, failureThreshold: unhealthyThreshold },
    livenessProbe: { ...base, failureThreshold: unhealthyThreshold },
    startupProbe: {
      ...base,
      periodSeconds: STARTUP_PROBE_SECONDS,
      failureThreshold: startupFailureThreshold(check),
    },
  };
}

/**
 * The load balancer's health check and drain time of the app's pods, as the controller reads them from the Ingress:
 * what an app on Fargate gets (the controller's own default check, 200 on `/`, would fail an app that answers `/`
 * otherwise).
 */
function ingressTargetGroup(check: HealthCheck | null): Record<string, string> {
  const health = targetGroupHealthCheck(check);
  return {
    'alb.ingress.kubernetes.io/target-group-attributes': `deregistration_delay.timeout_seconds=${TARGET_DRAIN_SECONDS}`,
    'alb.ingress.kubernetes.io/healthcheck-path': health.HealthCheckPath,
    'alb.ingress.kubernetes.io/success-codes': health.Matcher.HttpCode,
    'alb.ingress.kubernetes.io/healthcheck-interval-seconds': String(health.HealthCheckIntervalSeconds),
    'alb.ingress.kubernetes.io/healthcheck-timeout-seconds': String(health.HealthCheckTimeoutSeconds),
    'alb.ingress.kubernetes.io/healthy-threshold-count': String(health.HealthyThresholdCount),
    'alb.ingress.kubernetes.io/unhealthy-threshold-count': String(health.UnhealthyThresholdCount),
  };
}

/**
 * A container's argument or env value as Kubernetes must be given it to pass it on as it is, as Docker and ECS do:
 * Kubernetes expands `$(NAME)` from the container's env in both and reduces `$$` to `$`, so every `$` is doubled.
 */
const literal = (text: string) => text.replaceAll('$', () => '$$');

/**
 * Where an app's pods may run, by the architectures its image is built for: on a cluster whose nodes differ (arm64
 * and amd64 node groups, or Karpenter offering both), a pod of an image built for one fails on the other with an exec
 * format error. Nothing when its platforms are not known, or when pods run on Fargate (linux/amd64 only, and the API
 * refuses other images for it).
 */
function placement(platforms: string[] | undefined, fargate: boolean): Record<string, unknown> {
  const architectures = new Set(
    (platforms ?? []).flatMap((platform) => {
      const [os, architecture] = platform.split('/');
      return os === 'linux' && architecture ? [architecture] : [];
    }),
  );
  if (fargate || architectures.size === 0) return {};
  const matchExpressions = [
    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
    { key: 'kubernetes.io/arch', operator: 'In', values: [...architectures] },
  ];
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] },
      },
    },
  };
}

/**
 * The app's Deployment (rolling update: a new pod is ready before an old one goes), Service, Ingress (for the
 * AWS Load Balancer Controller: one ALB per `group`, a host rule per app, IP targets) and disruption budget.
 * Everything sits in `namespace`, the tenant's; nothing here can name another. `pods.fargate`: the cluster runs them on
 * Fargate.
 */
export function appManifests(
  workload: WorkloadSpec,
  namespace: string,
  ingress: { balancer: AppsLoadBalancer; host: string },
  pods: { fargate: boolean },
): Manifest[] {
  const attributes = loadBalancerAttributes(ingress.balancer);
  const selector = { [LABEL.tenant]: workload.tenantId, [LABEL.app]: workload.app };
  // Pods carry the revision, not the generation: scaling changes the generation but must not replace pods.
  const podLabels = {
    ...selector,
    [LABEL.appUid]: workload.appUid,
    [LABEL.managedBy]: FIELD_MANAGER,
    [LABEL.revision]: String(workload.revision),
  };
  const labels = { ...podLabels, [LABEL.generation]: String(workload.generation) };
  const resources = { cpu: millicores(workload.cpu), memory: mebibytes(workload.memory) };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: workload.app,
        namespace,
        labels,
        annotations: {
          [SPEC_HASH_ANNOTATION]: workloadHash(workload),
          [MANIFESTS_ANNOTATION]: MANIFESTS_REVISION,
          [LOAD_BALANCER_ANNOTATION]: attributes,
          [ROUTE_ANNOTATION]: ingressRouteOf(ingress.balancer, ingress.host),
        },
      },
      spec: {
        replicas: workload.replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: ROLLOUT },
        progressDeadlineSeconds: 600,
        template: {
          metadata: {
            labels: podLabels,
            annotations: { [RESTARTED_AT_ANNOTATION]: workload.restartedAt ?? '' },
            finalizers: [METERING_FINALIZER],
          },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: TARGET_DRAIN_SECONDS + STOP_SECONDS,
            ...placement(workload.platforms, pods.fargate),
            containers: [
              {
                name: 'app',
                image: fullImageName(workload.image),
                // The entrypoint's arguments, as Docker's Cmd and ECS's command: Kubernetes' `command` would replace it.
                ...(workload.command ? { args: workload.command.map(literal) } : {}),
                env: Object.entries(replicaEnv(workload)).map(([name, value]) => ({
                  name,
                  value: literal(value),
                })),
                ports: [{ containerPort: workload.port, protocol: 'TCP' }],
                resources: { requests: resources, limits: resources },
                ...probes(workload.healthCheck, workload.port),
                // Serving on while the ALB drains the pod's target, then SIGTERM: the order ECS stops a task in.
                lifecycle: { preStop: { sleep: { seconds: TARGET_DRAIN_SECONDS } } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: [...DROPPED_CAPABILITIES] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: workload.app, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ port: 80, targetPort: workload.port, protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: workload.app,
        namespace,
        labels,
        annotations: {
          'alb.ingress.kubernetes.io/group.name': ingress.balancer.group,
          'alb.ingress.kubernetes.io/target-type': 'ip',
          // HTTPS, and HTTP only to redirect to it (ssl-redirect acts on HTTP listeners: without one, it does nothing).
          'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP":80},{"HTTPS":443}]',
          'alb.ingress.kubernetes.io/ssl-redirect': '443',
          'alb.ingress.kubernetes.io/ssl-policy': APPS_TLS_POLICY,
          'alb.ingress.kubernetes.io/scheme': 'internet-facing',
          'alb.ingress.kubernetes.io/load-balancer-attributes': attributes,
          ...ingressTargetGroup(workload.healthCheck),
        },
      },
      spec: {
        ingressClassName: 'alb',
        rules: [
          {
            host: ingress.host,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: workload.app, port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      // Evictions (EKS on Fargate's patching, a node drain) take the app's pods one at a time, as AWS advises.
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: workload.app, namespace, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
  ];
}
