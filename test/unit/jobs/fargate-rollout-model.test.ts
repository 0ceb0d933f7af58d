import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import {
  expectOnlyFailingFailed,
  expectSettled,
  inTurn,
  takeThrough,
  workloadSteps,
} from '../../support/app-model.ts';
import { fargateWorld } from '../../support/fargate-world.ts';

const IMAGE = 'registry.example.com/acme/web';

it('brings a Fargate app, whatever was asked of it, to its last ask: its service at its replicas on the revision that went live', async () => {
  let world: Awaited<ReturnType<typeof fargateWorld>> | undefined;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(workloadSteps, { maxLength: 20 }),
        fc.array(fc.nat(2)),
        async (steps, behind) => {
          world?.aws.restore();
          world = await fargateWorld('model');
          const { deps, aws, pass: freshPass } = world;
          /** A pass; in turn as `behind` says, its first reads of the service from before its last update. */
          const readsBehind = inTurn(behind, 0);
          const pass = async () => {
            aws.readsBehind(readsBehind());
            await freshPass();
          };
          const web = { name: 'web', image: `${IMAGE}:1`, cpu: 0.25, memory: 512, port: 8080 };
          await createApp(deps, 'acme', { ...web, runtime: 'fargate' });
          // The service runs revision 1 first: ECS's circuit breaker (the fake's too) goes back only to an earlier one.
          await pass();
          // Crash-looping revisions are rolled back by ECS's circuit breaker.
          const crashlooping = await takeThrough(deps, IMAGE, steps, pass);
          // ECS's reads catch up within seconds.
          for (let i = 0; i < 10; i++) await freshPass();
          await expectOnlyFailingFailed(deps, crashlooping);
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
        },
      ),
      { numRuns: 300 },
    );
  } finally {
    world?.aws.restore();
  }
}, 120_000);
