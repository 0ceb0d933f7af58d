import fc from 'fast-check';
import { it } from 'vitest';
import { ManualClock } from '../fakes/core-deps.ts';
import { localApi } from '../support/local-api.ts';
import { checkMetering, meterRuns, replicaLives } from '../support/metering-model.ts';

it("meters every second of every replica's life once on DynamoDB Local, whatever the meter's runs, concurrent ones too; usage and reports sum it exactly", async () => {
  await fc.assert(
    fc.asyncProperty(replicaLives, meterRuns, async (lives, runs) => {
      // A table each: the meter job walks every tenant of its table.
      const { deps } = await localApi();
      await checkMetering({ ...deps, clock: new ManualClock() }, 'acme', lives, runs);
    }),
    { numRuns: 15 },
  );
}, 300_000);
