import { afterEach, describe, expect, it } from 'vitest';
import { KubeApplier } from '../../../functions/adapters/eks/kube-applier.ts';
import { appManifests, tenantNamespace } from '../../../functions/adapters/eks/manifests.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';

const limits = { apps: 5, instancesPerApp: 4, vcpu: 8, memoryMiB: 16384 };
const workload = {
  tenantId: 'acme',
  app: 'web',
  revision: 1,
  generation: 1,
  replicas: 2,
  image: 'registry.example.com/acme/web:1',
  cpu: 0.25,
  memory: 512,
  port: 8080,
  command: null,
  env: {},
  healthCheck: null,
};

describe('KubeApplier against a fake API server', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('server-side applies every manifest as field manager berth, in its tenant namespace, with the bearer token', async () => {
    const api = await startFakeKubeApi();
    close = api.close;
    const applier = new KubeApplier({
      server: api.url,
      caData: api.caData,
      token: async () => 'k8s-aws-v1.token0',
    });
    await applier.apply([
      ...tenantNamespace('acme', limits, { loadBalancerCidrs: ['10.64.0.0/22'] }),
      ...appManifests(workload, { group: 'berth-apps-0', host: 'web.acme.apps.example.com' }),
    ]);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/berth-acme',
      '/api/v1/namespaces/berth-acme/resourcequotas/berth-plan',
      '/api/v1/namespaces/berth-acme/limitranges/berth-defaults',
      '/apis/networking.k8s.io/v1/namespaces/berth-acme/networkpolicies/berth-ingress-from-load-balancer',
      '/apis/apps/v1/namespaces/berth-acme/deployments/web',
      '/api/v1/namespaces/berth-acme/services/web',
      '/apis/networking.k8s.io/v1/namespaces/berth-acme/ingresses/web',
    ]);
    for (const patch of patches) {
      expect(patch.contentType).toBe('application/apply-patch+yaml');
      expect(patch.query).toMatchObject({ fieldManager: 'berth', force: 'true' });
      expect(patch.authorization).toBe('Bearer k8s-aws-v1.token0');
    }
    expect(patches[4]?.body).toMatchObject({ kind: 'Deployment', spec: { replicas: 2 } });
  });

  it('observes pods with one list per namespace', async () => {
    const api = await startFakeKubeApi({
      'berth-acme': [
        {
          metadata: { name: 'web-1', labels: { 'berth.dev/app': 'web' } },
          status: { phase: 'Running', podIP: '10.0.0.1' },
        },
      ],
    });
    close = api.close;
    const pods = await new KubeApplier({ server: api.url, caData: api.caData, token: async () => 't' }).pods(
      'berth-acme',
    );
    expect(pods.map((p) => p.status?.podIP)).toEqual(['10.0.0.1']);
    const lists = api.requests.filter((r) => r.path.endsWith('/pods'));
    expect(lists).toHaveLength(1);
    expect(lists[0]?.query).toMatchObject({ labelSelector: 'app.kubernetes.io/managed-by=berth' });
  });
});
