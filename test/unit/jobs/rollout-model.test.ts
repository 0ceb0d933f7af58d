import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApp, getAppRecord } from '../../../functions/core/apps.ts';
import { deploy } from '../../../functions/core/deployments.ts';
import type { HealthProbe } from '../../../functions/core/ports.ts';
import { HealthCheck } from '../../../schemas/app.ts';
import { ask, expectSettled, ownerAsks } from '../../support/app-model.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

/** The health check path a replica never passes: a revision deployed with it is never ready. */
const FAILING_PATH = '/fails';
const probe: HealthProbe = {
  probe: async (_endpoint, { path }) =>
    path === FAILING_PATH ? { ok: false, why: 'HTTP 500' } : { ok: true },
};

/** What happens to the app between passes: what its owner asks, what its replicas do, a restart of the platform. */
const step = fc.oneof(
  ownerAsks,
  fc.record({
    kind: fc.constant('deploy' as const),
    revision: fc.constantFrom('works', 'exits', 'unhealthy'),
  }),
  fc.record({ kind: fc.constant('crash' as const) }),
  fc.record({ kind: fc.constant('reboot' as const) }),
  fc.record({ kind: fc.constant('pass' as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
);

it('brings an app, whatever was asked of it and however its replicas failed, to what was last asked: on the revision that went live, or failed with nothing running', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
      const { deps, runtime, reconcilerOf } = await scriptedWorld(probe);
      let reconciler = reconcilerOf('model');
      /** Revisions that failed: their replicas exit as soon as they start, or never pass their check. */
      const failing = new Set<number>();
      const exiting = new Set<number>();
      const pass = async (ms: number) => {
        deps.clock.advance(ms);
        await reconciler.reconcileApp('acme', 'web');
        for (const revision of exiting) runtime.crash(revision);
      };
      await createApp(deps, 'acme', WEB);
      for (const s of steps) {
        if (s.kind === 'deploy') {
          const path = s.revision === 'unhealthy' ? FAILING_PATH : '/';
          const { revision } = await deploy(deps, 'acme', 'web', {
            healthCheck: HealthCheck.parse({ path }),
          });
          if (s.revision !== 'works') failing.add(revision);
          if (s.revision === 'exits') exiting.add(revision);
        } else if (s.kind === 'crash') {
          runtime.crash((await getAppRecord(deps, 'acme', 'web')).targetRevision);
        } else if (s.kind === 'reboot') reconciler = reconcilerOf('model');
        else if (s.kind === 'pass') await pass(s.ms);
        else await ask(deps, s);
      }
      // Past every deployment's deadline (600 s).
      for (let i = 0; i < 80; i++) await pass(10_000);
      await expectSettled(
        deps,
        failing,
        async (app) => (await runtime.listReplicas({ appUid: app.uid })).filter((r) => r.state === 'running'),
        (app, running) => {
          expect(running.map((r) => r.revision)).toEqual(Array(app.replicas).fill(app.targetRevision));
          expect(new Set(running.map((r) => r.slot)).size).toBe(app.replicas);
        },
      );
    }),
    { numRuns: 300 },
  );
}, 120_000);
