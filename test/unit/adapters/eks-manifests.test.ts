import { describe, expect, it } from 'vitest';
import {
  appManifests,
  MANIFESTS_REVISION,
  tenantNamespace,
} from '../../../functions/adapters/eks/manifests.ts';
import { workloadHash } from '../../../functions/core/workloads.ts';
import { eksFargateSize } from '../../../schemas/fargate-sizes.ts';

const limits = { apps: 5, instancesPerApp: 4, vcpu: 8, memoryMiB: 16384 };
const workload = {
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_0123456789abcdef',
  restartedAt: null,
  revision: 3,
  generation: 9,
  replicas: 2,
  image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/acme/web@sha256:${'a'.repeat(64)}`,
  cpu: 0.5,
  memory: 1024,
  port: 8080,
  command: null,
  env: { LOG_LEVEL: 'info' },
  healthCheck: {
    path: '/healthz',
    intervalSeconds: 5,
    timeoutSeconds: 2,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    gracePeriodSeconds: 20,
  },
};

/** Pods on EKS Fargate, as an install's own cluster runs them; on an existing cluster they may run on nodes. */
const ON_FARGATE = { fargate: true };
const ON_NODES = { fargate: false };
/** An ingress group and host; which, no test here minds. */
const INGRESS = { balancer: { group: 'g', idleTimeoutSeconds: 60 }, host: 'h' };

type PodTemplate = {
  metadata: { annotations: Record<string, string> } & Record<string, unknown>;
  spec: Record<string, unknown>;
};
/** The pod template of the Deployment among `manifests` (the first). */
const podTemplate = (manifests: unknown[]) =>
  (manifests[0] as { spec: { template: PodTemplate } }).spec.template;
const podSpec = (manifests: unknown[]) => podTemplate(manifests).spec;

describe('EKS manifests', () => {
  it('confines a tenant to its namespace with its plan as quota, defaults, ingress from the load balancer only, and no instance metadata', () => {
    const [namespace, quota, limitRange, policy, egress] = tenantNamespace('berth-acme', 'acme', limits, {
      loadBalancerCidrs: ['10.64.0.0/22'],
    });
    // Every field, as the API server takes it: one left out is a namespace less confined (or not applied at all).
    const metadata = (name: string) => ({
      name,
      namespace: 'berth-acme',
      labels: { 'app.kubernetes.io/managed-by': 'berth', 'berth.dev/tenant': 'acme' },
    });
    expect(namespace).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'berth-acme',
        labels: {
          'app.kubernetes.io/managed-by': 'berth',
          'berth.dev/tenant': 'acme',
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/enforce-version': 'v1.30',
          'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled',
        },
      },
    });
    // Twice the plan (8 vCPU, 16 GiB, 5 apps of 4 instances), requests and limits alike.
    expect(quota).toEqual({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: metadata('berth-plan'),
      spec: {
        hard: {
          'requests.cpu': '16000m',
          'limits.cpu': '16000m',
          'requests.memory': '32768Mi',
          'limits.memory': '32768Mi',
          pods: '40',
          'services.loadbalancers': '0',
          'services.nodeports': '0',
        },
      },
    });
    // A container that names no resources gets a quarter vCPU and 512 MiB; none gets more than the largest size.
    const quarter = { cpu: '250m', memory: '512Mi' };
    const largest = { cpu: '16', memory: '120Gi' };
    expect(limitRange).toEqual({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: metadata('berth-defaults'),
      spec: {
        limits: [{ type: 'Container', default: quarter, defaultRequest: quarter, max: largest }],
      },
    });
    expect(policy).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('berth-ingress-from-load-balancer'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: '10.64.0.0/22' } }] }],
      },
    });
    // Anywhere but EC2's instance metadata service, which hands out an EC2 node's role.
    expect(egress).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('berth-egress-not-instance-metadata'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              { ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } },
              { namespaceSelector: {} },
            ],
          },
        ],
      },
    });
  });

  it('leaves a tenant at its plan’s limits room in the quota to roll out every app at once', () => {
    // Every app at the plan's replicas, together using all its vCPU and memory.
    const full = { apps: 5, instancesPerApp: 4, vcpu: 10, memoryMiB: 20480 };
    const app = { ...workload, replicas: full.instancesPerApp, cpu: 0.5, memory: 1024 };
    const [, quota] = tenantNamespace('berth-acme', 'acme', full, { loadBalancerCidrs: ['10.64.0.0/22'] });
    if (!quota) throw new Error('no quota');
    const { hard } = quota.spec as { hard: Record<string, string> };
    const [deployment] = appManifests(app, 'berth-acme', INGRESS, ON_FARGATE) as unknown as {
      spec: { strategy: { rollingUpdate: { maxSurge: string; maxUnavailable: number } } };
    }[];
    const { maxSurge, maxUnavailable } = deployment?.spec.strategy.rollingUpdate ?? {
      maxSurge: '',
      maxUnavailable: 1,
    };
    expect(maxUnavailable).toBe(0);
    // Kubernetes rounds a percentage surge up: this many new pods start before any old one stops.
    const surge = Math.ceil((app.replicas * Number.parseInt(maxSurge, 10)) / 100);
    const pods = full.apps * (app.replicas + surge);
    expect(pods).toBeLessThanOrEqual(Number(hard.pods));
    expect(pods * app.cpu * 1000).toBeLessThanOrEqual(Number.parseInt(hard['requests.cpu'] ?? '', 10));
    expect(pods * app.memory).toBeLessThanOrEqual(Number.parseInt(hard['requests.memory'] ?? '', 10));
  });

  it("keeps an app's pods within the baseline Pod Security Standard, with the other runtimes' capabilities", () => {
    const [deployment] = appManifests(workload, 'berth-acme', INGRESS, ON_FARGATE) as unknown as {
      spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
    }[];
    const pod = deployment?.spec.template.spec;
    if (!pod) throw new Error('no pod template');
    // What baseline forbids (https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline).
    for (const hostAccess of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[hostAccess]).toBeFalsy();
    expect(JSON.stringify(pod.volumes ?? [])).not.toContain('hostPath');
    for (const container of pod.containers) {
      const context = container.securityContext as {
        privileged?: boolean;
        allowPrivilegeEscalation?: boolean;
        capabilities?: { add?: string[]; drop?: string[] };
      };
      expect(context.privileged).toBeFalsy();
      expect(context.capabilities?.add ?? []).toEqual([]);
      // The default set but NET_RAW, as on Docker and Fargate; never gaining more through setuid binaries.
      expect(context.capabilities?.drop).toEqual(['NET_RAW']);
      expect(context.allowPrivilegeEscalation).toBe(false);
      expect(JSON.stringify(container.ports ?? [])).not.toContain('hostPort');
    }
    expect(JSON.stringify(pod)).not.toMatch(/Unconfined|procMount|sysctls/);
  });

  it('fingerprints a workload: the same spec the same hash, any change another', () => {
    expect(workloadHash({ ...workload })).toBe(workloadHash(workload));
    // Its maps as the table may give them back: the same keys in another order.
    const { healthCheck, ...rest } = workload;
    const reordered = Object.fromEntries(Object.entries(healthCheck).reverse()) as typeof healthCheck;
    expect(workloadHash({ healthCheck: reordered, ...rest })).toBe(workloadHash(workload));
    expect(workloadHash({ ...workload, replicas: 3 })).not.toBe(workloadHash(workload));
    expect(workloadHash({ ...workload, env: { LOG_LEVEL: 'debug' } })).not.toBe(workloadHash(workload));
  });

  it('builds the app’s Deployment, Service and Ingress in the tenant’s namespace only', () => {
    const manifests = appManifests(
      workload,
      'berth-acme',
      {
        balancer: { group: 'berth-apps-0', idleTimeoutSeconds: 300, accessLogsBucket: 'berth-lb-logs' },
        host: 'web--acme.apps.example.com',
      },
      ON_FARGATE,
    );
    const attributes = [
      'idle_timeout.timeout_seconds=300',
      'routing.http.drop_invalid_header_fields.enabled=true',
      'access_logs.s3.enabled=true',
      'access_logs.s3.bucket=berth-lb-logs',
      'access_logs.s3.prefix=eks-apps',
    ].join(',');
    expect(manifests.map((m) => [m.kind, m.metadata.namespace])).toEqual([
      ['Deployment', 'berth-acme'],
      ['Service', 'berth-acme'],
      ['Ingress', 'berth-acme'],
      ['PodDisruptionBudget', 'berth-acme'],
    ]);
    // Every field, as the API server and the load balancer controller take them.
    const [deployment, service, ingress, budget] = manifests;
    const selector = { 'berth.dev/tenant': 'acme', 'berth.dev/app': 'web' };
    // Pods carry the revision, not the generation: scaling must not replace them.
    const podLabels = {
      ...selector,
      'berth.dev/app-uid': 'app_0123456789abcdef',
      'app.kubernetes.io/managed-by': 'berth',
      'berth.dev/revision': '3',
    };
    const labels = { ...podLabels, 'berth.dev/generation': '9' };
    const healthz = { httpGet: { path: '/healthz', port: 8080 }, timeoutSeconds: 2, initialDelaySeconds: 0 };
    expect(deployment).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'berth-acme',
        labels,
        // What it was applied with: its spec, the manifests' revision, the load balancer's attributes and its route
        // (each applied again when it changes).
        annotations: {
          'berth.dev/spec-hash': workloadHash(workload),
          'berth.dev/manifests': MANIFESTS_REVISION,
          'berth.dev/load-balancer': attributes,
          'berth.dev/route': 'berth-apps-0 web--acme.apps.example.com',
        },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        progressDeadlineSeconds: 600,
        template: {
          metadata: {
            labels: podLabels,
            // Never restarted: a restart writes its time here, and the pods roll.
            annotations: { 'berth.dev/restarted-at': '' },
            finalizers: ['berth.dev/metering'],
          },
          spec: {
            // No API credentials and no other services' addresses in a tenant's pod.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 60,
            containers: [
              {
                name: 'app',
                image: workload.image,
                env: [
                  { name: 'PORT', value: '8080' },
                  { name: 'LOG_LEVEL', value: 'info' },
                  { name: 'BERTH_APP', value: 'web' },
                  { name: 'BERTH_REVISION', value: '3' },
                ],
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: {
                  requests: { cpu: '500m', memory: '1024Mi' },
                  limits: { cpu: '500m', memory: '1024Mi' },
                },
                // Traffic after 2 good answers, none after 3 bad ones, as an ALB target.
                readinessProbe: { ...healthz, periodSeconds: 5, successThreshold: 2, failureThreshold: 3 },
                livenessProbe: { ...healthz, periodSeconds: 5, failureThreshold: 3 },
                // Restarted 30 s after it started without answering: its 20 s grace, then 3 failures 5 s apart.
                startupProbe: { ...healthz, periodSeconds: 2, failureThreshold: 15 },
                lifecycle: { preStop: { sleep: { seconds: 30 } } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['NET_RAW'] } },
              },
            ],
          },
        },
      },
    });
    expect(service).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'berth-acme', labels },
      spec: { type: 'ClusterIP', selector, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    expect(ingress).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'web',
        namespace: 'berth-acme',
        labels,
        annotations: {
          'alb.ingress.kubernetes.io/group.name': 'berth-apps-0',
          'alb.ingress.kubernetes.io/target-type': 'ip',
          // HTTP answers only with a redirect to HTTPS, as the Fargate apps' load balancers do.
          'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP":80},{"HTTPS":443}]',
          'alb.ingress.kubernetes.io/ssl-redirect': '443',
          // TLS 1.2 and 1.3 only, as on Fargate, not the controller's default (ELBSecurityPolicy-2016-08, TLS 1.0 on).
          'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09',
          // Reached from the internet (the controller's default is an internal load balancer).
          'alb.ingress.kubernetes.io/scheme': 'internet-facing',
          // The install's idle timeout, invalid headers dropped and access logs in the install's bucket, as its Fargate
          // apps' load balancers have them.
          'alb.ingress.kubernetes.io/load-balancer-attributes': attributes,
          // The load balancer checks the app's own path, as it does an app's on Fargate.
          'alb.ingress.kubernetes.io/healthcheck-path': '/healthz',
          'alb.ingress.kubernetes.io/success-codes': '200-399',
          'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '5',
          'alb.ingress.kubernetes.io/healthcheck-timeout-seconds': '2',
          'alb.ingress.kubernetes.io/healthy-threshold-count': '2',
          'alb.ingress.kubernetes.io/unhealthy-threshold-count': '3',
          // A leaving pod gets 30 s to finish its requests, as long as Kubernetes gives it to stop; not ALB's 300.
          'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30',
        },
      },
      spec: {
        ingressClassName: 'alb',
        rules: [
          {
            host: 'web--acme.apps.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    expect(budget).toEqual({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: 'berth-acme', labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    });
    const tcp = appManifests(
      { ...workload, healthCheck: null },
      'berth-acme',
      INGRESS,
      ON_FARGATE,
    )[0] as unknown as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    // No health check: API.md's defaults (10 s apart, 2 s each, ready at 1, out at 3, 10 s of grace) over TCP.
    const connect = { tcpSocket: { port: 8080 }, timeoutSeconds: 2, initialDelaySeconds: 0 };
    const { readinessProbe, livenessProbe, startupProbe } = tcp.spec.template.spec.containers[0] ?? {};
    expect({ readinessProbe, livenessProbe, startupProbe }).toEqual({
      readinessProbe: { ...connect, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      livenessProbe: { ...connect, periodSeconds: 10, failureThreshold: 3 },
      // Its 10 s grace, then 3 failures 10 s apart: 30 s at one probe every 2 s.
      startupProbe: { ...connect, periodSeconds: 2, failureThreshold: 15 },
    });
    // No path: any HTTP answer on / will do for the load balancer (its default asks for 200).
    const [, , tcpIngress] = appManifests(
      { ...workload, healthCheck: null },
      'berth-acme',
      INGRESS,
      ON_FARGATE,
    );
    expect(tcpIngress?.metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/healthcheck-path': '/',
      'alb.ingress.kubernetes.io/success-codes': '200-499',
    });
  });

  it('keeps rollouts and evictions behind the load balancer: ready once its target is healthy, one pod evicted at a time, serving while its target drains', () => {
    // The load balancer controller gates each pod's readiness on its target's health: a rolling update replaces an
    // old pod only once the ALB sends a new one traffic (as a Fargate service waits for its new tasks' health).
    const [namespace] = tenantNamespace('berth-acme', 'acme', limits, {
      loadBalancerCidrs: ['10.64.0.0/22'],
    });
    expect(namespace?.metadata.labels).toMatchObject({
      'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled',
    });
    // Evictions (EKS on Fargate's patching, a node drain) take an app's pods one at a time, as AWS advises.
    const budget = appManifests(workload, 'berth-acme', INGRESS, ON_FARGATE)[3];
    expect(budget).toMatchObject({
      apiVersion: 'policy/v1',
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: { 'berth.dev/tenant': 'acme', 'berth.dev/app': 'web' } },
      },
    });
    // A stopping pod keeps serving while the ALB drains its target (30 s), and only then gets SIGTERM and 30 s to
    // stop — the order ECS stops a task behind a load balancer in, so neither runtime drops a request mid-rollout.
    const [deployment] = appManifests(workload, 'berth-acme', INGRESS, ON_FARGATE);
    expect(deployment).toMatchObject({
      spec: {
        template: {
          spec: {
            terminationGracePeriodSeconds: 60,
            containers: [{ lifecycle: { preStop: { sleep: { seconds: 30 } } } }],
          },
        },
      },
    });
  });

  it("rolls an app's pods on a restart: the pod template carries when it was asked for", () => {
    const template = (restartedAt: string | null) =>
      podTemplate(appManifests({ ...workload, restartedAt }, 'berth-acme', INGRESS, ON_FARGATE));
    const restarted = template('2026-11-22T10:00:00.000Z');
    expect(restarted.metadata.annotations).toEqual({ 'berth.dev/restarted-at': '2026-11-22T10:00:00.000Z' });
    // The only change to the pods: a Deployment replaces them all, one rollout, when its template changes.
    const never = template(null);
    expect({ ...restarted, metadata: { ...restarted.metadata, annotations: {} } }).toEqual({
      ...never,
      metadata: { ...never.metadata, annotations: {} },
    });
  });

  it("passes `command` to the image's entrypoint, as Docker's Cmd and ECS's command do: Kubernetes' args", () => {
    const deployment = appManifests(
      { ...workload, command: ['--port', '8080'] },
      'berth-acme',
      { balancer: { group: 'berth-apps', idleTimeoutSeconds: 60 }, host: 'web--acme.apps.example.com' },
      ON_FARGATE,
    )[0] as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    const [container] = deployment.spec.template.spec.containers;
    expect(container).toMatchObject({ args: ['--port', '8080'] });
    // Kubernetes' `command` would replace the entrypoint instead.
    expect(container).not.toHaveProperty('command');
  });

  it('passes a `$` in the command and env on as it is, as Docker and ECS do: Kubernetes reads `$(NAME)` and `$$`', () => {
    const [container] = podSpec(
      appManifests(
        {
          ...workload,
          command: ['sh', '-c', 'echo $$ $(PORT) $HOME'],
          env: { GREETING: 'costs $5 at $(BERTH_APP)' },
        },
        'berth-acme',
        INGRESS,
        ON_NODES,
      ),
    ).containers as Record<string, unknown>[];
    // Kubernetes reduces `$$` to `$` and never expands what follows it: the container gets the text it was given.
    expect(container).toMatchObject({
      args: ['sh', '-c', 'echo $$$$ $$(PORT) $$HOME'],
      env: expect.arrayContaining([{ name: 'GREETING', value: 'costs $$5 at $$(BERTH_APP)' }]),
    });
  });

  it("names an image in full, so that a node's containerd never takes `sha256:<hex>` for the id of an image it holds", () => {
    const id = `sha256:${'b'.repeat(64)}`;
    const [container] = podSpec(appManifests({ ...workload, image: id }, 'berth-acme', INGRESS, ON_NODES))
      .containers as Record<string, unknown>[];
    expect(container).toMatchObject({ image: `docker.io/library/${id}` });
  });

  it("places pods on nodes of the image's architectures, where the registry said them", () => {
    const ingress = INGRESS;
    const built = { ...workload, platforms: ['linux/arm64', 'linux/amd64', 'windows/amd64'] };
    expect(podSpec(appManifests(built, 'berth-acme', ingress, ON_NODES)).affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
                { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64', 'amd64'] },
              ],
            },
          ],
        },
      },
    });
    // Fargate runs linux/amd64 only, and picks no node; platforms not known, or no Linux among them, place nothing.
    expect(podSpec(appManifests(built, 'berth-acme', ingress, ON_FARGATE))).not.toHaveProperty('affinity');
    expect(podSpec(appManifests(workload, 'berth-acme', ingress, ON_NODES))).not.toHaveProperty('affinity');
    const windowsOnly = { ...workload, platforms: ['windows/amd64'] };
    expect(podSpec(appManifests(windowsOnly, 'berth-acme', ingress, ON_NODES))).not.toHaveProperty(
      'affinity',
    );
  });

  it('bills EKS on Fargate at the provisioned size: requests plus 256 MiB, rounded up', () => {
    expect(eksFargateSize(0.25, 512)).toEqual({ cpu: 0.25, memory: 1024 });
    expect(eksFargateSize(0.25, 2048)).toEqual({ cpu: 0.5, memory: 3072 });
    expect(eksFargateSize(1, 1024)).toEqual({ cpu: 1, memory: 2048 });
    expect(eksFargateSize(16, 122880)).toBeUndefined();
  });
});
