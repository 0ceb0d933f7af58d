import { DEFAULT_INSTALLATION } from '../../functions/adapters/aws/installation.ts';
import { clusterScope } from '../../functions/adapters/eks/cluster-scope.ts';
import { EksRuntime, type EksSettings } from '../../functions/adapters/eks/eks-runtime.ts';
import { KubeClient } from '../../functions/adapters/eks/kube-client.ts';
import type { AliasTarget, Route53AppRecords } from '../../functions/adapters/route53/app-records.ts';
import { WorkloadReconciler } from '../../functions/jobs/workload-reconcile.ts';
import { fakeCoreDeps } from '../fakes/core-deps.ts';
import type { startFakeKubeApi } from '../fakes/fake-kube-api.ts';

/** What applying tenant acme's namespace writes, in order: one server-side apply each. */
export const ACME_HOME_APPLIED = [
  '/api/v1/namespaces/berth-acme',
  '/api/v1/namespaces/berth-acme/resourcequotas/berth-plan',
  '/api/v1/namespaces/berth-acme/limitranges/berth-defaults',
  '/apis/networking.k8s.io/v1/namespaces/berth-acme/networkpolicies/berth-ingress-from-load-balancer',
  '/apis/networking.k8s.io/v1/namespaces/berth-acme/networkpolicies/berth-egress-not-instance-metadata',
];

/** What applying acme's app web then writes: its Deployment, Service, Ingress and PodDisruptionBudget. */
export const WEB_APPLIED = {
  deployment: '/apis/apps/v1/namespaces/berth-acme/deployments/web',
  service: '/api/v1/namespaces/berth-acme/services/web',
  ingress: '/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/web',
  podDisruptionBudget: '/apis/policy/v1/namespaces/berth-acme/poddisruptionbudgets/web',
};

/** What applying tenant acme's namespace and its app web writes, in order. */
export const ACME_WEB_APPLIED = [...ACME_HOME_APPLIED, ...Object.values(WEB_APPLIED)];

/** The ingress group's load balancer, as the controller makes it, and its canonical zone. */
export const INGRESS_LOAD_BALANCER = 'k8s-berthapps0-0123456789-1234567890.us-east-1.elb.amazonaws.com';
export const INGRESS_LOAD_BALANCER_ZONE = 'Z35SXDOTRQ7X7K';

/** The apps' DNS zone: what was pointed where, and removed, in order. */
class RecordingDns implements Pick<Route53AppRecords, 'point' | 'remove'> {
  readonly changes: string[] = [];
  async point(host: string, target: AliasTarget) {
    this.changes.push(`UPSERT ${host} → ${target.zoneId}/${target.dnsName}`);
  }
  async remove(host: string, target: AliasTarget) {
    this.changes.push(`DELETE ${host} → ${target.zoneId}/${target.dnsName}`);
  }
}

/**
 * Core deps over fakes offering `eks`, and the EKS runtime and its reconciler against a fake API server: of the
 * default install unless `installation` names another (with its own table, and its own access to the cluster); its
 * pods on EKS Fargate unless `fargate` is false (a cluster with nodes).
 */
export async function eksWorld(
  api: Awaited<ReturnType<typeof startFakeKubeApi>>,
  { fargate = true, installation = DEFAULT_INSTALLATION } = {},
) {
  const deps = { ...(await fakeCoreDeps()), runtimes: ['eks'] as const };
  const scope = clusterScope(installation);
  const token = installation === DEFAULT_INSTALLATION ? 'k8s-aws-v1.fake' : `k8s-aws-v1.fake-${installation}`;
  if (installation !== DEFAULT_INSTALLATION) api.addInstall(`Bearer ${token}`, scope);
  const kube = new KubeClient(async () => ({ server: api.url, caData: api.caData, token }));
  const dns = new RecordingDns();
  const settings: EksSettings = {
    scope,
    domain: 'apps.example.com',
    balancer: { group: 'berth-apps-0', idleTimeoutSeconds: 60 },
    loadBalancerCidrs: ['10.64.0.0/22'],
    fargate,
    records: {
      dns,
      // us-east-1's load balancers' canonical zone, as Elastic Load Balancing names it.
      zoneOf: async (dnsName) =>
        dnsName.endsWith('.us-east-1.elb.amazonaws.com') ? INGRESS_LOAD_BALANCER_ZONE : undefined,
    },
    clock: deps.clock,
  };
  const runtime = new EksRuntime(kube, settings);
  /** What the reconcilers logged: the apps whose passes failed. */
  const logged: Record<string, unknown>[] = [];
  const logger = {
    error: (message: string, details: Record<string, unknown>) => logged.push({ message, ...details }),
  };
  /**
   * A reconciler over this table and cluster; another `owner` is another worker, `changed` what another
   * configuration of the install has otherwise (the apps' load balancer, their domain).
   */
  const reconcilerFor = (owner: string, changed: Partial<Pick<EksSettings, 'balancer' | 'domain'>> = {}) =>
    new WorkloadReconciler({
      ...deps,
      runtime:
        Object.keys(changed).length === 0 ? runtime : new EksRuntime(kube, { ...settings, ...changed }),
      runtimeName: 'eks',
      owner,
      deploymentDeadlineMs: 600_000,
      logger,
    });
  return { deps, kube, runtime, dns, reconciler: reconcilerFor('test'), reconcilerFor, logged };
}
