import { expect, it, vi } from 'vitest';
import { PREFIX } from '../../functions/adapters/dynamodb/items.ts';
import { createApp, getAppRecord } from '../../functions/core/apps.ts';
import { deploy } from '../../functions/core/deployments.ts';
import { HELD_REVISIONS } from '../../functions/core/images.ts';
import { createTenant } from '../../functions/core/tenants.ts';
import { digestOf, pushedImage } from '../support/pushed-images.ts';
import { tableCoreDeps } from '../support/table-core-deps.ts';

it("lets go of the images of revisions past an app's newest ten, read from DynamoDB Local as they were written", async () => {
  const deps = await tableCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
  const image = (n: number) => pushedImage(deps.registry, n);
  const calls = vi.spyOn(deps.client, 'call');
  await createApp(deps, 'acme', { name: 'web', image: image(1), cpu: 0.25, memory: 512, port: 8080 });
  const revisions = HELD_REVISIONS + 2;
  for (let n = 2; n <= revisions; n++) await deploy(deps, 'acme', 'web', { image: image(n) });

  const { uid } = await getAppRecord(deps, 'acme', 'web');
  const held = Array.from({ length: HELD_REVISIONS }, (_, i) => `acme/web@${digestOf(i + 3)} for ${uid}`);
  expect([...deps.registry.held].sort()).toEqual(held.sort());
  // Each revision past the tenth read the newest ten as the table holds them, the one just made among them.
  const revisionQueries = calls.mock.calls.filter(
    ([operation, input]) => operation === 'Query' && JSON.stringify(input).includes(PREFIX.revision),
  );
  expect(revisionQueries).toHaveLength(revisions - HELD_REVISIONS);
  for (const [, input] of revisionQueries) {
    expect(input).toMatchObject({ ConsistentRead: true, ScanIndexForward: false, Limit: HELD_REVISIONS + 1 });
  }
});
