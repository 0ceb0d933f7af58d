import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SPEC_HASH_ANNOTATION, tenantNamespace } from '../../../functions/adapters/eks/manifests.ts';
import { createApp, deleteApp, getAppRecord, scaleApp } from '../../../functions/core/apps.ts';
import { deploy } from '../../../functions/core/deployments.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import { createTenant, deleteTenant } from '../../../functions/core/tenants.ts';
import { workloadHash } from '../../../functions/core/workloads.ts';
import { latestDeployment } from '../../../functions/jobs/rollout.ts';
import { SWEEP_EVERY_MS, type WorkloadReconciler } from '../../../functions/jobs/workload-reconcile.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { expectBackOnSupersededFirst } from '../../support/deployment-history.ts';
import {
  ACME_HOME_APPLIED,
  ACME_WEB_APPLIED,
  eksWorld,
  INGRESS_LOAD_BALANCER,
  INGRESS_LOAD_BALANCER_ZONE,
  WEB_APPLIED,
} from '../../support/eks-world.ts';

type Api = Awaited<ReturnType<typeof startFakeKubeApi>>;

describe('WorkloadReconciler on EKS (fake API server)', () => {
  let api: Api;
  let setup: Awaited<ReturnType<typeof world>>;

  async function world() {
    const { deps, runtime, dns, reconciler, reconcilerFor, logged } = await eksWorld(api);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    /** One pass, with the lease free again (each pass is a new tick). */
    const pass = async () => {
      const result = await reconciler.reconcileTenant('acme');
      deps.clock.advance(11_000);
      return result;
    };
    const requestsDuring = async (fn: () => Promise<unknown>) => {
      const before = api.requests.length;
      await fn();
      return api.requests.slice(before);
    };
    return { deps, runtime, dns, reconciler, reconcilerFor, pass, requestsDuring, logged };
  }

  beforeEach(async () => {
    api = await startFakeKubeApi();
    setup = await world();
  });
  afterEach(async () => api.close());

  const web = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

  it('applies the tenant namespace and the app once, then only watches: two lists per namespace a tick, no writes', async () => {
    const { deps, pass, requestsDuring } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    const first = await requestsDuring(pass);
    expect(first.filter((r) => r.method === 'PATCH').map((r) => r.path.split('?')[0])).toEqual(
      ACME_WEB_APPLIED,
    );
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', readyReplicas: 2, currentRevision: 1 });
    const observed: unknown[] = [];
    const observe = deps.meter.observeLifetime.bind(deps.meter);
    deps.meter.observeLifetime = (lifetime) => {
      observed.push(lifetime);
      return observe(lifetime);
    };
    const steady = await requestsDuring(pass);
    expect(steady.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /api/v1/namespaces/berth-acme/pods',
      'GET /apis/apps/v1/namespaces/berth-acme/deployments',
    ]);
    // The pods' lifetimes are known already: a steady tick writes none of them again.
    expect(observed).toEqual([]);
    // Every pod's life is metered at the EKS Fargate size: 0.25 vCPU / 512 MiB + 256 MiB → 0.25 vCPU, 1 GiB.
    const lifetimes = [...deps.meter.open.values()];
    expect(lifetimes).toHaveLength(2);
    expect(lifetimes.every((l) => l.cpu === 0.25 && l.memoryMiB === 1024 && l.app === 'web')).toBe(true);
  });

  it("places an app's pods on nodes of its image's architectures, as the registry said them for its revision", async () => {
    const { deps, reconciler } = await eksWorld(api, { fargate: false });
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const digest = `sha256:${'a'.repeat(64)}`;
    deps.registry.digests.set('acme/web:1', digest);
    deps.registry.platforms.set(digest, ['linux/arm64']);
    await createApp(deps, 'acme', { ...web, image: `${deps.registry.host}/acme/web:1`, runtime: 'eks' });
    await reconciler.reconcileTenant('acme');
    const deployment = api.objects.get(WEB_APPLIED.deployment) as unknown as {
      spec: { template: { spec: { affinity?: unknown; containers: { image: string }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0]?.image).toBe(`${deps.registry.host}/acme/web@${digest}`);
    expect(pod.affinity).toMatchObject({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: expect.arrayContaining([
                { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] },
              ]),
            },
          ],
        },
      },
    });
  });

  it("hashes the spec of a revision whose image's platforms are not known as before revisions had them", async () => {
    // So an upgrade replaces no app's pods (or ECS tasks): their workloads' spec hashes stay what they were.
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    const { uid } = await getAppRecord(deps, 'acme', 'web');
    const deployment = api.objects.get(WEB_APPLIED.deployment) as {
      metadata: { annotations: Record<string, string> };
    };
    const specBefore = {
      tenantId: 'acme',
      app: 'web',
      appUid: uid,
      revision: 1,
      generation: 1,
      image: web.image,
      cpu: 0.25,
      memory: 512,
      port: 8080,
      command: null,
      env: {},
      healthCheck: null,
      replicas: 1,
      restartedAt: null,
    };
    expect(deployment.metadata.annotations[SPEC_HASH_ANNOTATION]).toBe(workloadHash(specBefore));
  });

  it('applies an app once more after an upgrade changed what its spec renders to, and then no more', async () => {
    const { deps, pass, requestsDuring } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    // As the Berth before MANIFESTS_REVISION 2 left them: no revision noted, an Ingress without the health check.
    const deployment = api.objects.get(WEB_APPLIED.deployment) as {
      metadata: { annotations: Record<string, string> };
    };
    delete deployment.metadata.annotations['berth.dev/manifests'];
    const ingress = api.objects.get(WEB_APPLIED.ingress) as {
      metadata: { annotations: Record<string, string> };
    };
    for (const name of Object.keys(ingress.metadata.annotations))
      if (name.includes('health') || name.includes('success-codes'))
        delete ingress.metadata.annotations[name];
    const applied = (requests: { method: string; path: string }[]) =>
      requests.filter((r) => r.method === 'PATCH').map((r) => r.path.split('?')[0]);
    expect(applied(await requestsDuring(pass))).toEqual(Object.values(WEB_APPLIED));
    expect((api.objects.get(WEB_APPLIED.ingress) as typeof ingress).metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/healthcheck-path': '/',
    });
    expect(applied(await requestsDuring(pass))).toEqual([]);
  });

  it("applies every app again when the install's load balancer attributes or ingress group change", async () => {
    // The controller refuses a whole ingress group whose Ingresses state one attribute two ways: an app applied with
    // the old idle timeout beside a new one with the new would leave every app of the group unrouted from then on.
    const { deps, pass, requestsDuring, reconcilerFor } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks', replicas: 1 });
    await pass();
    // The Lambdas of the install deployed again with appIdleTimeoutSeconds 300.
    const raised = reconcilerFor('test', { balancer: { group: 'berth-apps-0', idleTimeoutSeconds: 300 } });
    const passRaised = async () => {
      await raised.reconcileTenant('acme');
      deps.clock.advance(11_000);
    };
    const ingresses = (requests: { method: string; path: string }[]) =>
      requests
        .filter((r) => r.method === 'PATCH' && r.path.includes('/ingresses/'))
        .map((r) => r.path.split('?')[0])
        .sort();
    expect(ingresses(await requestsDuring(passRaised))).toEqual([
      '/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/api',
      WEB_APPLIED.ingress,
    ]);
    for (const app of ['api', 'web']) {
      const ingress = api.objects.get(
        `/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/${app}`,
      ) as {
        metadata: { annotations: Record<string, string> };
      };
      expect(ingress.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-attributes']).toMatch(
        /^idle_timeout\.timeout_seconds=300,/,
      );
    }
    expect(ingresses(await requestsDuring(passRaised))).toEqual([]);

    // The install's ingress group renamed (`eks.ingressGroup`): every app joins it, not only those changed next.
    const regrouped = reconcilerFor('test', { balancer: { group: 'tenant-apps', idleTimeoutSeconds: 300 } });
    const passRegrouped = async () => {
      await regrouped.reconcileTenant('acme');
      deps.clock.advance(11_000);
    };
    expect(ingresses(await requestsDuring(passRegrouped))).toHaveLength(2);
    const group = (app: string) => {
      const ingress = api.objects.get(
        `/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/${app}`,
      ) as {
        metadata: { annotations: Record<string, string> };
      };
      return ingress.metadata.annotations['alb.ingress.kubernetes.io/group.name'];
    };
    expect([group('api'), group('web')]).toEqual(['tenant-apps', 'tenant-apps']);
    expect(ingresses(await requestsDuring(passRegrouped))).toEqual([]);
  });

  it("reads an app's revision from the table once, and the next one once, when a deploy targets it", async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    const reads = vi.spyOn(deps.store, 'getRevision');
    await pass();
    await pass();
    expect(reads.mock.calls).toEqual([['acme', expect.any(String), 1]]);
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    reads.mockClear();
    await pass();
    await pass();
    expect(reads.mock.calls).toEqual([['acme', expect.any(String), 2]]);
  });

  it("applies a tenant's namespace again every 10 minutes, restoring one changed behind Berth's back", async () => {
    const { deps, pass, requestsDuring } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    const applied = (requests: { method: string; path: string }[]) =>
      requests.filter((r) => r.method === 'PATCH').map((r) => r.path.split('?')[0]);
    deps.clock.advance(9 * 60_000);
    expect(applied(await requestsDuring(pass))).toEqual([]);
    deps.clock.advance(60_000);
    expect(applied(await requestsDuring(pass))).toEqual(ACME_HOME_APPLIED);
    expect(applied(await requestsDuring(pass))).toEqual([]);
  });

  it("makes a namespace deleted behind Berth's back again at the pass after the one it failed, not 10 minutes on", async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    api.objects.delete('/api/v1/namespaces/berth-acme');
    for (const path of [...api.objects.keys()]) if (path.includes('/berth-acme/')) api.objects.delete(path);
    // Its Deployment is missing, so the pass applies it, into a namespace that is no more.
    await expect(pass()).rejects.toThrow();
    await pass();
    expect(api.objects.has('/api/v1/namespaces/berth-acme')).toBe(true);
    expect(api.objects.has('/apis/apps/v1/namespaces/berth-acme/deployments/web')).toBe(true);
  });

  it("sweeps away a deleted tenant's namespace, never a live tenant's or one Berth did not make", async () => {
    const { deps, runtime, reconciler, reconcilerFor, pass, requestsDuring } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    const limits = { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 };
    for (const id of ['gone', 'going']) {
      await createTenant(deps, { id, name: id, plan: 'free' });
      await runtime.ensureTenant(id, limits);
      await deleteTenant(deps, id);
    }
    // A namespace already being deleted is left to Kubernetes.
    const going = api.objects.get('/api/v1/namespaces/berth-going');
    if (going) going.status = { phase: 'Terminating' };
    await runtime.ensureTenant('acme', limits);
    api.objects.set('/api/v1/namespaces/kube-system', {
      kind: 'Namespace',
      metadata: { name: 'kube-system' },
    });
    // Labelled as Berth's by hand, but not named for its tenant: not one Berth made.
    api.objects.set('/api/v1/namespaces/team-x', {
      kind: 'Namespace',
      metadata: {
        name: 'team-x',
        labels: { 'app.kubernetes.io/managed-by': 'berth', 'berth.dev/tenant': 'team-x' },
      },
    });

    const sweep = await requestsDuring(async () =>
      expect(await reconciler.sweep()).toEqual({ tenantHomes: 1, orphans: [] }),
    );
    expect(sweep.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/api/v1/namespaces/berth-gone',
    ]);
    // The namespaces are listed once, for both the homes and the Deployments in them.
    expect(
      sweep.filter((r) => r.method === 'GET' && r.path.split('?')[0] === '/api/v1/namespaces'),
    ).toHaveLength(1);
    expect([...api.objects.keys()].filter((k) => /^\/api\/v1\/namespaces\/[^/]+$/.test(k)).sort()).toEqual([
      '/api/v1/namespaces/berth-acme',
      '/api/v1/namespaces/berth-going',
      '/api/v1/namespaces/kube-system',
      '/api/v1/namespaces/team-x',
    ]);

    // At most once every 10 minutes, whichever worker is asked.
    // Its deletion did not go through, so the next sweep deletes it again.
    if (going) going.status = { phase: 'Active' };
    deps.clock.advance(SWEEP_EVERY_MS);
    for (const worker of [reconciler, reconcilerFor('other')]) {
      expect(await requestsDuring(() => worker.sweep())).toEqual([]);
    }
    deps.clock.advance(1);
    expect(await reconcilerFor('other').sweep()).toEqual({ tenantHomes: 1, orphans: [] });
    expect(api.objects.has('/api/v1/namespaces/berth-going')).toBe(false);
    expect(api.objects.has('/api/v1/namespaces/berth-acme')).toBe(true);
  });

  it('removes no namespace when every one of them has lost its tenant: that says the table is the wrong one', async () => {
    const { deps, runtime, reconciler } = setup;
    const limits = { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 };
    for (const id of ['x', 'y', 'z']) {
      await createTenant(deps, { id, name: id, plan: 'free' });
      await runtime.ensureTenant(id, limits);
      await deleteTenant(deps, id);
    }
    expect(await reconciler.sweep()).toEqual({
      tenantHomes: 0,
      orphans: [],
      refused: expect.stringContaining('3 of 3 tenant homes'),
    });
    for (const id of ['x', 'y', 'z']) expect(api.objects.has(`/api/v1/namespaces/berth-${id}`)).toBe(true);
  });

  it('has a deployment succeed once the pods it replaces are gone, not while they finish their requests', async () => {
    const { deps, pass } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    await pass();
    const latest = async () => latestDeployment(deps, await getAppRecord(deps, 'acme', 'web'));
    expect(await latest()).toMatchObject({ revision: 1, status: 'succeeded' });
    api.holdGraces();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    await pass();
    await pass();
    // The new pod is ready; the old one, deleted, runs on through its grace.
    const during = await latest();
    expect(during).toMatchObject({ revision: 2, status: 'in_progress' });
    expect(during?.phases.healthy).toEqual(expect.any(String));
    api.endGraces();
    await pass();
    expect(await latest()).toMatchObject({ revision: 2, status: 'succeeded' });
  });

  it('removes the namespaces of two deleted tenants that were all there were: too few to doubt the table', async () => {
    const { deps, runtime, reconciler } = setup;
    const limits = { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 };
    for (const id of ['x', 'y']) {
      await createTenant(deps, { id, name: id, plan: 'free' });
      await runtime.ensureTenant(id, limits);
      await deleteTenant(deps, id);
    }
    expect(await reconciler.sweep()).toEqual({ tenantHomes: 2, orphans: [] });
    for (const id of ['x', 'y']) expect(api.objects.has(`/api/v1/namespaces/berth-${id}`)).toBe(false);
  });

  it('sweeps away a workload whose app is gone; one whose name a live app took is left to that app', async () => {
    const { deps, dns, reconciler, pass, requestsDuring } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    for (const name of ['web', 'api', 'docs'])
      await createApp(deps, 'acme', { ...web, name, runtime: 'eks' });
    await pass();
    await pass();
    // As when a pass that lost its lease applies an app whose deletion another pass finished meanwhile: the app
    // records go, the objects stay.
    const lost = async (name: string) => {
      const app = await getAppRecord(deps, 'acme', name);
      await deps.store.finalizeAppDeletion(app);
      return { tenantId: 'acme', app: name, incarnation: app.uid };
    };
    const webOrphan = await lost('web');
    await lost('api');
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks' });
    const api2 = await getAppRecord(deps, 'acme', 'api');
    dns.changes.length = 0;

    let swept: unknown;
    const sweep = await requestsDuring(async () => {
      swept = await reconciler.sweep();
    });
    // api's objects are left to the new api, which applies its own spec over them.
    expect(swept).toEqual({ tenantHomes: 0, orphans: [webOrphan] });
    expect(sweep.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/web',
      '/api/v1/namespaces/berth-acme/services/web',
      '/apis/policy/v1/namespaces/berth-acme/poddisruptionbudgets/web',
      '/apis/apps/v1/namespaces/berth-acme/deployments/web',
    ]);
    expect(dns.changes).toEqual([
      `DELETE web--acme.apps.example.com → ${INGRESS_LOAD_BALANCER_ZONE}/${INGRESS_LOAD_BALANCER}`,
    ]);
    await pass();
    const deployment = api.objects.get('/apis/apps/v1/namespaces/berth-acme/deployments/api');
    expect(deployment?.metadata.labels?.['berth.dev/app-uid']).toBe(api2.uid);
    expect(api.objects.has('/apis/apps/v1/namespaces/berth-acme/deployments/docs')).toBe(true);
    deps.clock.advance(SWEEP_EVERY_MS + 1);
    expect(await reconciler.sweep()).toEqual({ tenantHomes: 0, orphans: [] });
  });

  it("shares a cluster with another install: each keeps to its own tenants' namespaces, workloads and pods", async () => {
    const { deps, runtime, reconciler, pass } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    await pass();
    // Another install, its own table, on the same cluster: a tenant of the same id with an app of the same name, and
    // a tenant this install does not have.
    const staging = await eksWorld(api, { installation: 'staging' });
    const stagingPass = async (tenantId: string) => {
      await staging.reconciler.reconcileTenant(tenantId);
      staging.deps.clock.advance(11_000);
    };
    for (const id of ['acme', 'beta']) {
      await createTenant(staging.deps, { id, name: id, plan: 'pro' });
      await createApp(staging.deps, id, { ...web, runtime: 'eks', replicas: 2 });
      await stagingPass(id);
      await stagingPass(id);
    }
    expect([...api.objects.keys()].filter((k) => /^\/api\/v1\/namespaces\/[^/]+$/.test(k)).sort()).toEqual([
      '/api/v1/namespaces/berth-acme',
      '/api/v1/namespaces/berth-staging--acme',
      '/api/v1/namespaces/berth-staging--beta',
    ]);
    const stagingWeb = await getAppRecord(staging.deps, 'acme', 'web');
    expect(
      api.objects.get('/apis/apps/v1/namespaces/berth-staging--acme/deployments/web')?.metadata.labels,
    ).toMatchObject({
      'berth.dev/app-uid': stagingWeb.uid,
    });

    // Each lists its own pods only, and its sweep finds nothing of the other's to remove.
    expect((await runtime.listReplicas()).map((r) => r.tenantId)).toEqual(['acme']);
    expect((await staging.runtime.listReplicas()).map((r) => r.tenantId).sort()).toEqual([
      'acme',
      'acme',
      'beta',
      'beta',
    ]);
    expect(await reconciler.sweep()).toEqual({ tenantHomes: 0, orphans: [] });
    expect(await staging.reconciler.sweep()).toEqual({ tenantHomes: 0, orphans: [] });
    expect(api.objects.has('/apis/apps/v1/namespaces/berth-acme/deployments/web')).toBe(true);
    expect(api.objects.has('/api/v1/namespaces/berth-staging--beta')).toBe(true);

    // A tenant deleted in one install goes from that install's namespaces only.
    await deleteApp(staging.deps, 'acme', 'web');
    for (let i = 0; i < 3; i++) await stagingPass('acme'); // deleted, its pods metered and released, the app gone
    await deleteTenant(staging.deps, 'acme');
    staging.deps.clock.advance(SWEEP_EVERY_MS + 1);
    expect(await staging.reconciler.sweep()).toMatchObject({ tenantHomes: 1 });
    expect(api.objects.has('/api/v1/namespaces/berth-staging--acme')).toBe(false);
    expect(api.objects.has('/api/v1/namespaces/berth-acme')).toBe(true);
    expect(await runtime.listReplicas({ tenantId: 'acme' })).toHaveLength(1);

    // And its Lambdas may not write the default install's namespaces at all.
    const limits = { apps: 1, instancesPerApp: 1, vcpu: 1, memoryMiB: 512 };
    await expect(
      staging.kube.apply(
        tenantNamespace('berth-acme', 'acme', limits, { loadBalancerCidrs: ['10.0.0.0/8'] }),
      ),
    ).rejects.toThrow(/only its own tenants' namespaces \(berth-staging--<tenant>\)/);
  });

  it('makes no namespace for a tenant whose apps all run on another runtime, and writes nothing to the cluster', async () => {
    const { deps, pass, requestsDuring } = setup;
    await createApp({ ...deps, runtimes: ['fargate'] }, 'acme', { ...web, name: 'api', runtime: 'fargate' });
    const requests = await requestsDuring(pass);
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(api.objects.has('/api/v1/namespaces/berth-acme')).toBe(false);
  });

  it("releases an orphan's stopped pods, metered, when its tenant has no app left here to do it in a pass", async () => {
    const { deps, reconciler, pass, runtime } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    // An app on another runtime: no pass here is its.
    await createApp({ ...deps, runtimes: ['fargate'] }, 'acme', { ...web, name: 'api', runtime: 'fargate' });
    await pass();
    await pass();
    // The table lost acme's only app on EKS: no pass runs for acme here any more.
    await deps.store.finalizeAppDeletion(await getAppRecord(deps, 'acme', 'web'));
    await reconciler.sweep(); // removes the orphan: its pods stop
    expect(await runtime.listReplicas({ tenantId: 'acme' })).toHaveLength(2);
    deps.clock.advance(SWEEP_EVERY_MS + 1);
    await reconciler.sweep();
    // The orphan's pods stopped; their stops are recorded, and nothing holds them (or acme's namespace) any more.
    expect(await runtime.listReplicas({ tenantId: 'acme' })).toEqual([]);
    expect([...api.objects.keys()].filter((path) => path.includes('/pods/'))).toEqual([]);
    const lifetimes = [...deps.meter.open.values()];
    expect(lifetimes).toHaveLength(2);
    for (const lifetime of lifetimes) expect(lifetime.stoppedSec).not.toBeNull();
  });

  it('notes a recent in-place restart of a pod as one event of its app, with how its container exited', async () => {
    const { deps, pass, reconcilerFor } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await pass();
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    const pod = [...api.objects.values()].find((o) => o.kind === 'Pod');
    const status = pod?.status as { containerStatuses: Record<string, unknown>[] };
    /** The kubelet restarted the container `restarts` times, the last after it exited `agoMs` ago. */
    const restarted = (restarts: number, agoMs: number) => {
      const finishedAt = new Date(deps.clock.now().getTime() - agoMs).toISOString();
      Object.assign(status.containerStatuses[0] ?? {}, {
        restartCount: restarts,
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt } },
      });
      return finishedAt;
    };
    const exits = async () =>
      (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items
        .filter((e) => e.type === 'replicaExited')
        .map(({ message, at, details }) => ({ message, at, details }));

    const at = restarted(1, 30_000);
    await pass();
    // The worker that wrote it writes it no more.
    const written = vi.spyOn(deps.store, 'addAppEvent');
    await pass();
    expect(written).not.toHaveBeenCalled();
    // Another worker's pass writes the same event again, not a second one.
    await reconcilerFor('other').reconcileTenant('acme');
    expect(await exits()).toEqual([
      {
        message: 'pod exited with code 137 (OOMKilled) and was restarted',
        at,
        details: {
          replica: `berth-acme/${pod?.metadata.name}`,
          revision: 1,
          exitCode: 137,
          reason: 'OOMKilled',
          restarts: 1,
        },
      },
    ]);
    // An exit older than the passes since is not noted again under a new count.
    restarted(2, 3_600_000);
    await pass();
    expect(await exits()).toHaveLength(1);
  });

  it("notes a pod that stopped failing with its exit code, and the kubelet's reason where it says more", async () => {
    const { deps, pass, runtime } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks', replicas: 1 });
    await pass();
    await pass();
    const podOf = (name: string) => {
      const pod = [...api.objects.values()].find(
        (o) => o.kind === 'Pod' && o.metadata.labels?.['berth.dev/app'] === name,
      );
      return `berth-acme/${pod?.metadata.name}`;
    };
    const pods = { web: podOf('web'), api: podOf('api') };
    // The kubelet ends them (a node failure), leaving them listed.
    api.endPods('berth-acme', 'web', { exitCode: 137, reason: 'OOMKilled', deleted: false });
    api.endPods('berth-acme', 'api', { exitCode: 1, deleted: false });
    // The first release fails (the API server busy): the pass after it tells the same pod again, as the same event.
    vi.spyOn(runtime, 'releaseReplica').mockRejectedValueOnce(new Error('the API server is busy'));
    await expect(pass()).rejects.toThrow('busy');
    await pass();
    // The kubelet leaves such a pod listed (Failed) until something deletes it: released, it is deleted.
    const failed = [...api.objects.values()].filter((o) => o.kind === 'Pod' && o.status?.phase === 'Failed');
    expect(failed).toEqual([]);
    const exits = async (name: string) => {
      const app = await getAppRecord(deps, 'acme', name);
      return (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items
        .filter((e) => e.type === 'replicaExited')
        .map(({ message, details }) => ({ message, details }));
    };
    expect(await exits('web')).toEqual([
      {
        message: 'pod exited with code 137 (OOMKilled)',
        details: { replica: pods.web, revision: 1, exitCode: 137, reason: 'OOMKilled' },
      },
    ]);
    // "Error" says no more than the code.
    expect(await exits('api')).toEqual([
      { message: 'pod exited with code 1', details: { replica: pods.api, revision: 1, exitCode: 1 } },
    ]);
  });

  it('tells a pod Kubernetes stopped — evicted by a drain or by its node — as stopped outside Berth, once, no failure', async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 1 });
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks', replicas: 1 });
    await pass();
    await pass();
    // A drain's eviction deletes the pod; the kubelet ends one for its node's pressure, leaving it listed.
    api.endPods('berth-acme', 'web', {
      disruption: { reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
    });
    api.endPods('berth-acme', 'api', {
      exitCode: 137,
      deleted: false,
      disruption: { reason: 'TerminationByKubelet', message: 'The node was low on resource: memory.' },
    });
    await pass();
    await pass();
    const told = async (name: string) => {
      const app = await getAppRecord(deps, 'acme', name);
      return (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items
        .filter((e) => e.type === 'replicaRemoved' || e.type === 'replicaExited')
        .map((e) => [e.type, e.message, e.details?.reason]);
    };
    // The pod's exit reason, which its instance shows, says the same.
    const evicted = 'stopped outside Berth: EvictionByEvictionAPI: Eviction API: evicting';
    expect(await told('web')).toEqual([['replicaRemoved', `pod ${evicted}`, evicted]]);
    const ended = 'stopped outside Berth: TerminationByKubelet: The node was low on resource: memory.';
    expect(await told('api')).toEqual([['replicaRemoved', `pod ${ended}`, ended]]);
  });

  it('tells no failure of the pods a rollout or a scale-in deleted, which exit on SIGTERM', async () => {
    // As an ECS task its service stops is none: the pod of a server that does not catch SIGTERM exits 143.
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    await pass();
    await pass();
    await scaleApp(deps, 'acme', 'web', 1);
    await pass();
    await pass();
    const app = await getAppRecord(deps, 'acme', 'web');
    const events = (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items;
    expect(events.map((e) => e.type)).toContain('deployed');
    expect(events.filter((e) => e.type === 'replicaExited')).toEqual([]);
    // They stopped all the same, on SIGTERM, and were metered to their ends.
    const stopped = [...deps.meter.open.values()].filter((l) => l.stoppedSec !== null);
    expect(stopped.length).toBeGreaterThanOrEqual(3);
  });

  it('scales without replacing pods', async () => {
    const { deps, pass, runtime } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    await pass();
    const before = (await runtime.listReplicas({ tenantId: 'acme' })).map((r) => r.id);
    await scaleApp(deps, 'acme', 'web', 3);
    await pass();
    const after = (await runtime.listReplicas({ tenantId: 'acme' })).map((r) => r.id);
    expect(after).toHaveLength(3);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  /** A 2-replica app running revision 1, and a pass that applies revision 2: its pods crash, the old ones serve. */
  async function deployCrashLoop() {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    await pass();
    await pass();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:crashloop' });
    await pass();
  }

  it("holds up none of a tenant's apps for one whose pass fails, and fails the pass after them all", async () => {
    const { deps, pass, logged } = setup;
    await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks' });
    await createApp(deps, 'acme', { ...web, runtime: 'eks' });
    const write = deps.store.writeRollout.bind(deps.store);
    deps.store.writeRollout = async (w) => {
      if (w.app?.record.name === 'api') throw new UnavailableError('the table did not answer');
      return write(w);
    };
    // "api" comes first; "web" is reconciled all the same, pass after pass.
    await expect(pass()).rejects.toThrow('the pass over tenant "acme" failed for api (each is logged)');
    deps.clock.advance(11_000); // the failed pass's lease has expired
    await expect(pass()).rejects.toThrow('failed for api');
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', readyReplicas: 1 });
    expect(logged).toEqual([
      expect.objectContaining({ message: 'could not reconcile an app', tenantId: 'acme', app: 'api' }),
      expect.objectContaining({ app: 'api' }),
    ]);
    deps.store.writeRollout = write;
    deps.clock.advance(11_000);
    await pass();
    expect(await getAppRecord(deps, 'acme', 'api')).toMatchObject({ status: 'running' });
  });

  it('keeps the old pods serving when the rollback of a failed revision is refused, and rolls back at the next pass', async () => {
    const { deps, pass, requestsDuring } = setup;
    await deployCrashLoop();
    const update = deps.store.updateApp.bind(deps.store);
    deps.store.updateApp = async () => {
      deps.store.updateApp = update;
      throw new UnavailableError('the table did not answer');
    };
    await expect(pass()).rejects.toThrow('failed for web');
    const refused = await getAppRecord(deps, 'acme', 'web');
    expect(refused).toMatchObject({ targetRevision: 2, currentRevision: 1 });
    expect(await latestDeployment(deps, refused)).toMatchObject({ revision: 2, status: 'in_progress' });
    deps.clock.advance(11_000); // the failed pass's lease has expired
    // The next pass finds revision 2 failed again and rolls back; the workload stays as it was meanwhile (not
    // revision 2 at no replicas, which would stop the old pods too).
    const again = await requestsDuring(pass);
    expect(again.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ targetRevision: 1, readyReplicas: 2 });
    await pass();
    await pass();
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      status: 'running',
      targetRevision: 1,
      currentRevision: 1,
      readyReplicas: 2,
    });
  });

  it('fails a crash-looping revision by its restarts and rolls back; the stopped pods are metered, then released', async () => {
    const { deps, pass, runtime } = setup;
    await deployCrashLoop();
    const during = await getAppRecord(deps, 'acme', 'web');
    expect(during.readyReplicas).toBe(2);
    await pass(); // restarts past the circuit breaker: failed, rolled back to revision 1
    await pass(); // applies revision 1 again: the crashing pods stop
    // Their stops are recorded and their finalizers removed, as the job's metric counts.
    expect(await pass()).toMatchObject({ released: 2 });
    expect(await pass()).toMatchObject({ released: 0 });
    const app = await getAppRecord(deps, 'acme', 'web');
    expect(app).toMatchObject({ status: 'running', targetRevision: 1, currentRevision: 1, readyReplicas: 2 });
    const events = (await deps.store.listAppEvents('acme', app.uid, { limit: 50 })).items.map((e) => e.type);
    expect(events).toContain('rolledBack');
    expect(events).not.toContain('deploymentFailed');
    const replicas = await runtime.listReplicas({ tenantId: 'acme' });
    expect(replicas.map((r) => [r.revision, r.state])).toEqual([
      [1, 'running'],
      [1, 'running'],
    ]);
    const stopped = [...deps.meter.open.values()].filter((l) => l.stoppedSec !== null);
    expect(stopped).toHaveLength(2);
  });

  it('rolls a crash-looping revision back to the pods that serve, though their deployment was superseded before it went live', async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    await pass(); // revision 1 applied; its pods start
    // Revision 2 comes before any pass saw revision 1 go live.
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:crashloop' });
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ currentRevision: null });
    await pass(); // revision 2 applied; revision 1's pods serve on while its pods crash
    await pass(); // restarts past the circuit breaker: failed, rolled back to revision 1
    await pass(); // revision 1 applied again: the crashing pods stop
    await pass(); // only revision 1's pods are left: it goes live
    await expectBackOnSupersededFirst(deps, 2);
  });

  it("points an app's name at the load balancer its Ingress got, once, and removes the record with the app", async () => {
    const { deps, dns, pass, requestsDuring } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks' });
    await pass();
    // The controller has not made the ingress group's load balancer yet: each pass looks again, pointing nothing.
    const waiting = await requestsDuring(pass);
    expect(waiting.map((r) => `${r.method} ${r.path}`)).toContain(
      'GET /apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses',
    );
    expect(dns.changes).toEqual([]);
    // A load balancer whose canonical zone Elastic Load Balancing does not name: nothing an alias could point at.
    api.provisionLoadBalancer('apps.internal.example.net');
    await pass();
    expect(dns.changes).toEqual([]);

    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await pass();
    const alias = `web--acme.apps.example.com → ${INGRESS_LOAD_BALANCER_ZONE}/${INGRESS_LOAD_BALANCER}`;
    expect(dns.changes).toEqual([`UPSERT ${alias}`]);
    // Pointed once: later passes, and a new revision applied over the Deployment, do not look or point again.
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    await pass();
    const steady = await requestsDuring(pass);
    expect(steady.some((r) => r.path.endsWith('/ingresses'))).toBe(false);
    expect(dns.changes).toEqual([`UPSERT ${alias}`]);

    await deleteApp(deps, 'acme', 'web');
    // Its objects deleted, nothing applied.
    expect(await pass()).toMatchObject({ apps: 1, applied: 0 });
    expect(dns.changes).toEqual([`UPSERT ${alias}`, `DELETE ${alias}`]);
    await pass();
    await pass();
    await expect(getAppRecord(deps, 'acme', 'web')).rejects.toThrow(/not found|does not exist/);
    expect(dns.changes).toHaveLength(2);
  });

  it("moves an app's Ingress and name to the install's new domain, removing the earlier record where it may", async () => {
    const { deps, dns, pass, requestsDuring, reconcilerFor, logged } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks' });
    await pass();
    await pass();
    const to = (host: string) => `${host} → ${INGRESS_LOAD_BALANCER_ZONE}/${INGRESS_LOAD_BALANCER}`;
    expect(dns.changes).toEqual([`UPSERT ${to('web--acme.apps.example.com')}`]);
    /** A pass of the install deployed again with `domain`. */
    const passUnder = (domain: string) => async () => {
      await reconcilerFor('test', { domain }).reconcileTenant('acme');
      deps.clock.advance(11_000);
    };
    const ingressHost = () =>
      (api.objects.get(WEB_APPLIED.ingress)?.spec as { rules: { host: string }[] } | undefined)?.rules[0]
        ?.host;
    // The app's objects applied (a new runtime applies the tenant's namespace too, once).
    const applied = (requests: { method: string; path: string }[]) =>
      requests
        .filter((r) => r.method === 'PATCH')
        .map((r) => r.path.split('?')[0])
        .filter((path) => path?.endsWith('/web'));

    // A domain above the earlier one: the earlier name lies under it, and its record goes.
    expect(applied(await requestsDuring(passUnder('example.com')))).toEqual(
      expect.arrayContaining([WEB_APPLIED.deployment, WEB_APPLIED.ingress]),
    );
    expect(ingressHost()).toBe('web--acme.example.com');
    expect(dns.changes.slice(1)).toEqual([
      `UPSERT ${to('web--acme.example.com')}`,
      `DELETE ${to('web--acme.apps.example.com')}`,
    ]);
    // Moved once: the next pass applies and points nothing.
    expect(applied(await requestsDuring(passUnder('example.com')))).toEqual([]);
    expect(dns.changes).toHaveLength(3);

    // Another domain altogether: the install's role may not write the earlier name, whose record is left.
    await passUnder('apps.example.net')();
    expect(ingressHost()).toBe('web--acme.apps.example.net');
    expect(dns.changes.slice(3)).toEqual([`UPSERT ${to('web--acme.apps.example.net')}`]);

    // A domain under which the app's name is more than a load balancer routes (130 characters): nothing is applied,
    // and the pass says why.
    const tooLong = `${'d'.repeat(60)}.${'e'.repeat(47)}.example.com`;
    const passTooLong = passUnder(tooLong);
    expect(applied(await requestsDuring(() => passTooLong().catch(() => undefined)))).toEqual([]);
    await expect(passTooLong()).rejects.toThrow('failed for web');
    expect(ingressHost()).toBe('web--acme.apps.example.net');
    expect(dns.changes).toHaveLength(4);
    expect(logged.at(-1)).toMatchObject({
      app: 'web',
      error: expect.objectContaining({
        message: expect.stringContaining('longer than a load balancer serves'),
      }),
    });
    await deleteApp(deps, 'acme', 'web');
    await passUnder('apps.example.net')();
    expect(dns.changes.at(-1)).toBe(`DELETE ${to('web--acme.apps.example.net')}`);
  });

  it("points an app's name again, within 10 minutes, when its Ingress's load balancer is made again", async () => {
    // Deleted by hand (the controller makes another, under another DNS name), or its ingress group renamed.
    const { deps, dns, pass, requestsDuring } = setup;
    api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
    await createApp(deps, 'acme', { ...web, runtime: 'eks' });
    await pass();
    await pass();
    const remade = 'k8s-berthapps0-9876543210-0987654321.us-east-1.elb.amazonaws.com';
    api.provisionLoadBalancer(remade);
    // Until the check is due, a pass reads no Ingress and points nothing.
    const quiet = await requestsDuring(pass);
    expect(quiet.some((r) => r.path.endsWith('/ingresses'))).toBe(false);
    deps.clock.advance(10 * 60_000);
    await pass();
    const host = 'web--acme.apps.example.com';
    expect(dns.changes).toEqual([
      `UPSERT ${host} → ${INGRESS_LOAD_BALANCER_ZONE}/${INGRESS_LOAD_BALANCER}`,
      `UPSERT ${host} → ${INGRESS_LOAD_BALANCER_ZONE}/${remade}`,
    ]);
    // Noted as pointed there: the record it removes with the app is that one.
    deps.clock.advance(10 * 60_000);
    await pass();
    expect(dns.changes).toHaveLength(2);
    await deleteApp(deps, 'acme', 'web');
    await pass();
    expect(dns.changes.at(-1)).toBe(`DELETE ${host} → ${INGRESS_LOAD_BALANCER_ZONE}/${remade}`);
  });

  it('deletes the app’s objects and finishes the deletion once its pods are metered and gone', async () => {
    const { deps, pass, requestsDuring } = setup;
    await createApp(deps, 'acme', { ...web, runtime: 'eks', replicas: 2 });
    await pass();
    await deleteApp(deps, 'acme', 'web');
    await pass(); // deletes Ingress, Service, disruption budget, Deployment
    expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/web',
      '/api/v1/namespaces/berth-acme/services/web',
      '/apis/policy/v1/namespaces/berth-acme/poddisruptionbudgets/web',
      '/apis/apps/v1/namespaces/berth-acme/deployments/web',
    ]);
    // Records the pods' stops and releases them, from the one observation of the pass: no pod is read again.
    const releasing = await requestsDuring(pass);
    expect(releasing.filter((r) => r.method === 'GET' && r.path.endsWith('/pods'))).toHaveLength(1);
    expect(releasing.filter((r) => r.contentType === 'application/merge-patch+json')).toHaveLength(2);
    await pass(); // nothing left: the app record goes
    await expect(getAppRecord(deps, 'acme', 'web')).rejects.toThrow(/not found|does not exist/);
    expect([...api.objects.keys()].filter((k) => k.includes('/pods/'))).toEqual([]);
    expect([...deps.meter.open.values()].every((l) => l.stoppedSec !== null)).toBe(true);
  });

  it('fails a deployment whose Deployment misses its progress deadline', async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, image: 'registry.example.com/acme/web:stuck', runtime: 'eks' });
    await pass();
    await pass();
    const [deployment] = (
      await deps.store.listDeployments('acme', (await getAppRecord(deps, 'acme', 'web')).uid, { limit: 1 })
    ).items;
    expect(deployment).toMatchObject({ status: 'failed', reason: expect.stringMatching(/deadline/) });
  });

  it('takes no verdict from a Deployment status the controller wrote for an earlier template', async () => {
    const { deps, pass } = setup;
    await createApp(deps, 'acme', { ...web, image: 'registry.example.com/acme/web:stuck', runtime: 'eks' });
    await pass();
    await pass(); // failed: the Deployment missed its progress deadline
    // The controller lags (a busy control plane): the next template is applied, the status still the stuck one's.
    api.holdController();
    await deploy(deps, 'acme', 'web', { image: 'registry.example.com/acme/web:2' });
    await pass(); // applies revision 2
    await pass();
    const statusOf = async () =>
      (await latestDeployment(deps, await getAppRecord(deps, 'acme', 'web')))?.status;
    expect(await statusOf()).toBe('in_progress');
    api.syncController();
    await pass();
    expect(await statusOf()).toBe('succeeded');
  });

  it("says why a Deployment missed its deadline, in the kubelet's words, where its new pods say", async () => {
    const { deps, pass, logged } = setup;
    const image = 'registry.example.com/acme/web:unpullable';
    await createApp(deps, 'acme', { ...web, image, runtime: 'eks' });
    for (const name of ['api', 'jobs', 'docs'])
      await createApp(deps, 'acme', {
        ...web,
        name,
        image: 'registry.example.com/acme/web:stuck',
        runtime: 'eks',
      });
    await pass();
    /** Sets what the kubelet or the scheduler says of the app's pod. */
    const podOf = (app: string) =>
      [...api.objects.values()].find((o) => o.kind === 'Pod' && o.metadata.labels?.['berth.dev/app'] === app);
    Object.assign(podOf('api')?.status ?? {}, {
      containerStatuses: [
        {
          name: 'app',
          ready: false,
          restartCount: 1,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' },
          },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ],
    });
    Object.assign(podOf('jobs')?.status ?? {}, {
      phase: 'Pending',
      containerStatuses: [],
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          message: '0/0 nodes are available: no Fargate profile matches',
        },
      ],
    });
    // A pod the scheduler cannot place is the operator's to mend: counted and logged at each pass while it lasts.
    expect((await pass()).notStarting).toBe(1);
    expect(logged).toContainEqual({
      message: 'the runtime cannot start an app',
      tenantId: 'acme',
      app: 'jobs',
      why: 'Kubernetes could not schedule a pod: 0/0 nodes are available: no Fargate profile matches',
    });
    const reasonOf = async (app: string) =>
      (await deps.store.listDeployments('acme', (await getAppRecord(deps, 'acme', app)).uid, { limit: 1 }))
        .items[0]?.reason;
    const deadline = 'the Deployment did not progress within its deadline';
    expect(await reasonOf('web')).toBe(`${deadline}: ImagePullBackOff: Back-off pulling image "${image}"`);
    expect(await reasonOf('api')).toBe(`${deadline}: its container exited with code 137 (OOMKilled)`);
    expect(await reasonOf('jobs')).toBe(
      `${deadline}: not scheduled: 0/0 nodes are available: no Fargate profile matches`,
    );
    // Pods that are only not ready yet say nothing more.
    expect(await reasonOf('docs')).toBe(deadline);
  });

  describe("a tenant's pass lease", () => {
    const LEASE = 'reconcile-workloads/acme';
    let world: Awaited<ReturnType<typeof eksWorld>>;
    /** Another worker's reconciler over the same table and cluster. */
    const otherWorker = () => world.reconcilerFor('other');
    beforeEach(async () => {
      world = await eksWorld(api);
      await createTenant(world.deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    });
    const now = () => world.deps.clock.now().getTime();

    it('runs once more for an ask that came while it ran, instead of dropping it', async () => {
      const { deps, runtime, reconciler } = world;
      await createApp(deps, 'acme', { ...web, runtime: 'eks' });
      const observe = runtime.observe.bind(runtime);
      let asked: Awaited<ReturnType<WorkloadReconciler['reconcileTenant']>> | undefined;
      runtime.observe = async (...args: Parameters<typeof observe>) => {
        if (!asked) {
          deps.clock.advance(1000);
          await createApp(deps, 'acme', { ...web, name: 'api', runtime: 'eks' });
          asked = await otherWorker().reconcileTenant('acme', now());
        }
        return observe(...args);
      };
      const done = await reconciler.reconcileTenant('acme');
      // The other worker left it to the running pass, which went once more and applied the new app too.
      expect(asked).toEqual({ apps: 0, applied: 0, released: 0, notStarting: 0 });
      expect(done).toMatchObject({ apps: 3, applied: 2 });
    });

    it('frees the lease when a pass ends, so an ask right after runs at once on any worker', async () => {
      const { deps, reconciler } = world;
      await createApp(deps, 'acme', { ...web, runtime: 'eks' });
      await reconciler.reconcileTenant('acme');
      deps.clock.advance(1);
      expect(await otherWorker().reconcileTenant('acme', now())).toMatchObject({ apps: 1 });
    });

    it('keeps the lease through a long pass, and stops a pass whose lease was lost', async () => {
      const { deps, runtime, reconciler } = world;
      for (const name of ['a', 'b', 'c']) await createApp(deps, 'acme', { ...web, name, runtime: 'eks' });
      const apply = runtime.applyWorkload.bind(runtime);
      const takenByOther: boolean[] = [];
      runtime.applyWorkload = async (spec) => {
        deps.clock.advance(6000);
        takenByOther.push(await deps.store.acquireLease(LEASE, 'other', now() + 10_000, now()));
        return apply(spec);
      };
      expect(await reconciler.reconcileTenant('acme')).toMatchObject({ apps: 3, applied: 3 });
      expect(takenByOther).toEqual([false, false, false]);

      // One app outlasting the whole lease: another worker takes it, and this pass stops before the next app.
      await deploy(deps, 'acme', 'a', { env: { V: '2' } });
      await deploy(deps, 'acme', 'b', { env: { V: '2' } });
      runtime.applyWorkload = async (spec) => {
        deps.clock.advance(11_000);
        takenByOther.push(await deps.store.acquireLease(LEASE, 'other', now() + 10_000, now()));
        return apply(spec);
      };
      deps.clock.advance(1);
      expect(await reconciler.reconcileTenant('acme')).toMatchObject({ apps: 1, applied: 1 });
      expect(takenByOther.at(-1)).toBe(true);
    });

    it('runs at most three passes for one message, and leaves a later ask to whoever takes the lease next', async () => {
      const { deps, runtime, reconciler } = world;
      await createApp(deps, 'acme', { ...web, runtime: 'eks' });
      const observe = runtime.observe.bind(runtime);
      let passes = 0;
      runtime.observe = async (...args: Parameters<typeof observe>) => {
        passes += 1;
        deps.clock.advance(1000);
        expect(await deps.store.askLeaseAgain(LEASE, now(), now())).toBe(true);
        return observe(...args);
      };
      await reconciler.reconcileTenant('acme');
      expect(passes).toBe(3);
      expect(deps.store.leases.get(LEASE)).toMatchObject({ until: 0, again: true });
    });
  });
});
