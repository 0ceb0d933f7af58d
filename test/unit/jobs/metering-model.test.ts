import fc from 'fast-check';
import { it } from 'vitest';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { checkMetering, meterRuns, replicaLives } from '../../support/metering-model.ts';

it("meters every second of every replica's life once, in its hour, whatever the meter's runs; usage and reports sum it exactly", async () => {
  await fc.assert(
    fc.asyncProperty(replicaLives, meterRuns, async (lives, runs) =>
      checkMetering(await fakeCoreDeps(), 'acme', lives, runs),
    ),
    { numRuns: 100 },
  );
});
