import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import {
  expectOnlyFailingFailed,
  expectSettled,
  inTurn,
  takeThrough,
  workloadSteps,
} from '../../support/app-model.ts';
import { eksWorld, INGRESS_LOAD_BALANCER, WEB_APPLIED } from '../../support/eks-world.ts';

const IMAGE = 'registry.example.com/acme/web';
/** Crash-looping revisions are never ready: their restarts trip the breaker; stuck ones miss their deadline. */
const FAILING = ['crashloop', 'stuck'];

interface Pod {
  metadata: { labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

it('brings an EKS app, whatever was asked of it, to its last ask: its Deployment at its replicas on the revision that went live', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('1', ...FAILING),
      fc.array(workloadSteps, { maxLength: 15 }),
      fc.array(fc.boolean()),
      async (first, steps, lags) => {
        const api = await startFakeKubeApi();
        try {
          api.provisionLoadBalancer(INGRESS_LOAD_BALANCER);
          const { deps, reconciler } = await eksWorld(api);
          await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
          /**
           * One tick, a minute after the last. A `lagging` one holds the Deployment controller back from what it
           * applies until the next tick has read it, as a busy control plane's lags behind a pass that goes again.
           */
          let held = false;
          const tick = async (lagging: boolean) => {
            const holding = lagging && !held;
            if (holding) api.holdController();
            await reconciler.reconcileTenant('acme');
            if (held) api.syncController();
            held = holding;
            deps.clock.advance(60_000);
          };
          const lagging = inTurn(lags, false);
          const pass = () => tick(lagging());
          const web = { name: 'web', image: `${IMAGE}:${first}`, cpu: 0.25, memory: 512, port: 8080 };
          await createApp(deps, 'acme', { ...web, runtime: 'eks' });
          const failing = await takeThrough(deps, IMAGE, steps, pass, FAILING);
          if (first !== '1') failing.add(1);
          // Past every deployment's deadline (600 s).
          for (let i = 0; i < 14; i++) await tick(false);
          const pods = () =>
            [...api.objects.entries()]
              .filter(([path]) => path.startsWith('/api/v1/namespaces/berth-acme/pods/'))
              .map(([, pod]) => pod as Pod)
              .filter((pod) => !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running');
          await expectOnlyFailingFailed(deps, failing);
          await expectSettled(
            deps,
            failing,
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
      },
    ),
    { numRuns: 30 },
  );
}, 300_000);
