import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  createApp,
  getAppRecord,
  restartApp,
  scaleApp,
  startApp,
  stopApp,
} from '../../../functions/core/apps.ts';
import { deploy, listDeployments, rollback } from '../../../functions/core/deployments.ts';
import { ConflictError } from '../../../functions/core/errors.ts';
import type { HealthProbe } from '../../../functions/core/ports.ts';
import { HealthCheck } from '../../../schemas/app.ts';
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
  fc.record({
    kind: fc.constant('deploy' as const),
    revision: fc.constantFrom('works', 'exits', 'unhealthy'),
  }),
  fc.record({ kind: fc.constant('scale' as const), replicas: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constantFrom(
      'stop' as const,
      'start' as const,
      'restart' as const,
      'rollback' as const,
      'crash' as const,
      'reboot' as const,
    ),
  }),
  fc.record({ kind: fc.constant('pass' as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
);

it('brings an app, whatever was asked of it and however its replicas failed, to what was last asked: on the revision that went live, or failed with nothing running', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
      const { deps, runtime, reconcilerOf } = await scriptedWorld(probe);
      let reconciler = reconcilerOf('model');
      /** Revisions whose replicas exit as soon as they start, and revisions that never pass their check. */
      const failing = new Set<number>();
      const exiting = new Set<number>();
      const pass = async (ms: number) => {
        deps.clock.advance(ms);
        await reconciler.reconcileApp('acme', 'web');
        for (const revision of exiting) runtime.crash(revision);
      };
      await createApp(deps, 'acme', WEB);
      for (const s of steps) {
        try {
          if (s.kind === 'deploy') {
            const path = s.revision === 'unhealthy' ? FAILING_PATH : '/';
            const { revision } = await deploy(deps, 'acme', 'web', {
              healthCheck: HealthCheck.parse({ path }),
            });
            if (s.revision !== 'works') failing.add(revision);
            if (s.revision === 'exits') exiting.add(revision);
          } else if (s.kind === 'scale') await scaleApp(deps, 'acme', 'web', s.replicas);
          else if (s.kind === 'stop') await stopApp(deps, 'acme', 'web');
          else if (s.kind === 'start') await startApp(deps, 'acme', 'web');
          else if (s.kind === 'restart') await restartApp(deps, 'acme', 'web');
          else if (s.kind === 'rollback') await rollback(deps, 'acme', 'web', undefined);
          else if (s.kind === 'crash')
            runtime.crash((await getAppRecord(deps, 'acme', 'web')).targetRevision);
          else if (s.kind === 'reboot') reconciler = reconcilerOf('model');
          else if (s.kind === 'pass') await pass(s.ms);
        } catch (err) {
          // What the API refuses as it stands (a rollback with nothing to go back to, a restart of a stopped app).
          if (!(err instanceof ConflictError)) throw err;
        }
      }
      // Past every deployment's deadline (600 s).
      for (let i = 0; i < 80; i++) await pass(10_000);

      const app = await getAppRecord(deps, 'acme', 'web');
      const [latest, ...earlier] = (await listDeployments(deps, 'acme', 'web', { limit: 100 })).items;
      const running = (await runtime.listReplicas({ appUid: app.uid })).filter((r) => r.state === 'running');
      // Only the latest deployment may be open (an app stopped mid-rollout keeps it so): every earlier one ended.
      expect(earlier.filter((d) => d.status === 'pending' || d.status === 'in_progress')).toEqual([]);
      // No revision that failed ever went live.
      expect(app.currentRevision === null || !failing.has(app.currentRevision)).toBe(true);
      if (app.status === 'stopped') {
        expect(running).toEqual([]);
        return;
      }
      expect(latest?.status).toBeOneOf(['succeeded', 'failed']);
      if (latest?.status === 'succeeded') {
        expect(app).toMatchObject({
          status: 'running',
          readyReplicas: app.replicas,
          currentRevision: app.targetRevision,
        });
        expect(running.map((r) => r.revision)).toEqual(Array(app.replicas).fill(app.targetRevision));
        expect(new Set(running.map((r) => r.slot)).size).toBe(app.replicas);
      } else {
        // Failed with nothing to roll back to: nothing of it serves, and no other revision runs.
        expect(app).toMatchObject({ status: 'failed', readyReplicas: 0, currentRevision: null });
        expect(running).toEqual([]);
      }
    }),
    { numRuns: 300 },
  );
}, 120_000);
