import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { expectSettled, takeThrough, workloadSteps } from '../../support/app-model.ts';
import { eksWorld, INGRESS_LOAD_BALANCER, WEB_APPLIED } from '../../support/eks-world.ts';

const IMAGE = 'registry.example.com/acme/web';

interface Pod {
  metadata: { labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

it('brings an EKS app, whatever was asked of it, to its last ask: its Deployment at its replicas on the revision that went live', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(workloadSteps, { maxLength: 15 }), async (steps) => {
      const api = await startFakeKubeApi();
      try {
        api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
        const { deps, reconciler } = await eksWorld(api);
        await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
        /** One tick, a minute after the last. */
        const pass = async () => {
          await reconciler.reconcileTenant('acme');
          deps.clock.advance(60_000);
        };
        const web = { name: 'web', image: `${IMAGE}:1`, cpu: 0.25, memory: 512, port: 8080 };
        await createApp(deps, 'acme', { ...web, runtime: 'eks' });
        // Crash-looping revisions are never ready: their restarts trip the breaker.
        const crashlooping = await takeThrough(deps, IMAGE, steps, pass);
        // Past every deployment's deadline (600 s).
        for (let i = 0; i < 14; i++) await pass();
        const pods = () =>
          [...api.objects.entries()]
            .filter(([path]) => path.startsWith('/api/v1/namespaces/berth-acme/pods/'))
            .map(([, pod]) => pod as Pod)
            .filter((pod) => !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running');
        await expectSettled(
          deps,
          crashlooping,
          async () => pods(),
          (app, running) => {
            const deployment = api.objects.get(WEB_APPLIED.deployment) as unknown as {
              spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
            };
            expect(deployment.spec.replicas).toBe(app.replicas);
            expect(deployment.spec.template.spec.containers[0]?.image).toBe(app.spec.image);
            expect(running.map((pod) => pod.metadata.labels?.['berth.dev/revision'])).toEqual(
              Array(app.replicas).fill(String(app.targetRevision)),
            );
          },
        );
      } finally {
        await api.close();
      }
    }),
    { numRuns: 30 },
  );
}, 300_000);
