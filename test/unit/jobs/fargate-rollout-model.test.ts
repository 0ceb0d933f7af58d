import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { deploy } from '../../../functions/core/deployments.ts';
import { updateTenant } from '../../../functions/core/tenants.ts';
import { ask, expectSettled, ownerAsks, refusedOrDone } from '../../support/app-model.ts';
import { fargateWorld } from '../../support/fargate-world.ts';

const IMAGE = 'registry.example.com/acme/web';

/** What happens to the app between ticks of the reconciler: what its owner and the operator ask. */
const step = fc.oneof(
  ownerAsks,
  fc.record({ kind: fc.constant('deploy' as const), crashloops: fc.boolean() }),
  fc.record({ kind: fc.constant('suspend' as const) }),
  fc.record({ kind: fc.constant('reactivate' as const) }),
  fc.record({ kind: fc.constant('pass' as const) }),
);

it('brings a Fargate app, whatever was asked of it, to its last ask: its service at its replicas on the revision that went live', async () => {
  let world: Awaited<ReturnType<typeof fargateWorld>> | undefined;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 20 }), async (steps) => {
        world?.aws.restore();
        world = await fargateWorld('model');
        const { deps, aws, pass } = world;
        /** Revisions of an image that crash-loops, which ECS's circuit breaker rolls back. */
        const crashlooping = new Set<number>();
        const web = { name: 'web', image: `${IMAGE}:1`, cpu: 0.25, memory: 512, port: 8080 };
        await createApp(deps, 'acme', { ...web, runtime: 'fargate' });
        // The service runs revision 1 first: ECS's circuit breaker (and the fake's) rolls back only to a previous one.
        await pass();
        let images = 1;
        for (const s of steps) {
          if (s.kind === 'deploy') {
            const image = s.crashloops ? `${IMAGE}:crashloop` : `${IMAGE}:${++images}`;
            await refusedOrDone(async () => {
              const { revision } = await deploy(deps, 'acme', 'web', { image });
              if (s.crashloops) crashlooping.add(revision);
            });
          } else if (s.kind === 'suspend') await updateTenant(deps, 'acme', { status: 'suspended' });
          else if (s.kind === 'reactivate') await updateTenant(deps, 'acme', { status: 'active' });
          else if (s.kind === 'pass') await pass();
          else await ask(deps, s);
        }
        await updateTenant(deps, 'acme', { status: 'active' });
        for (let i = 0; i < 10; i++) await pass();
        await expectSettled(
          deps,
          crashlooping,
          async () => [...aws.tasks.values()].filter((t) => t.lastStatus === 'RUNNING'),
          (app, running) => {
            const [service] = [...aws.services.values()];
            const image = aws.definitions.get(service?.taskDefinition ?? '')?.containerDefinitions?.[0]
              ?.image;
            expect(image).toBe(app.spec.image);
            expect(service?.desiredCount).toBe(app.replicas);
            expect(running.map((t) => t.taskDefinitionArn)).toEqual(
              Array(app.replicas).fill(service?.taskDefinition),
            );
          },
        );
      }),
      { numRuns: 100 },
    );
  } finally {
    world?.aws.restore();
  }
}, 120_000);
