import fc from 'fast-check';
import { expect } from 'vitest';
import { getAppRecord, restartApp, scaleApp, startApp, stopApp } from '../../functions/core/apps.ts';
import { deploy, listDeployments, rollback } from '../../functions/core/deployments.ts';
import { ConflictError, isDomainError } from '../../functions/core/errors.ts';
import type { AppRecord, CoreDeps, RegistryDeps } from '../../functions/core/ports.ts';
import { updateTenant } from '../../functions/core/tenants.ts';

/** What the owner of acme's app web asks of it in a model test, beside deploys. */
export const ownerAsks = fc.oneof(
  fc.record({ kind: fc.constant('scale' as const), replicas: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constantFrom('stop' as const, 'start' as const, 'restart' as const, 'rollback' as const),
  }),
);
export type OwnerAsk = typeof ownerAsks extends fc.Arbitrary<infer T> ? T : never;

/** Does what `step` asks of web, or nothing, where the API refuses it as things stand (409, a suspended tenant). */
export async function ask(deps: RegistryDeps, step: OwnerAsk) {
  await refusedOrDone(async () => {
    if (step.kind === 'scale') await scaleApp(deps, 'acme', 'web', step.replicas);
    else if (step.kind === 'stop') await stopApp(deps, 'acme', 'web');
    else if (step.kind === 'start') await startApp(deps, 'acme', 'web');
    else if (step.kind === 'restart') await restartApp(deps, 'acme', 'web');
    else await rollback(deps, 'acme', 'web', undefined);
  });
}

/** The steps of a model test on a runtime of workloads (ECS services, Kubernetes Deployments), beside the owner's. */
export const workloadSteps = fc.oneof(
  ownerAsks,
  // A deploy of an image that runs and gets ready, or, `fails`, of one of the model's failing images (`way`).
  fc.record({ kind: fc.constant('deploy' as const), fails: fc.boolean(), way: fc.nat(9) }),
  fc.record({ kind: fc.constant('suspend' as const) }),
  fc.record({ kind: fc.constant('reactivate' as const) }),
  fc.record({ kind: fc.constant('pass' as const) }),
);
type WorkloadStep = typeof workloadSteps extends fc.Arbitrary<infer T> ? T : never;

/**
 * Takes acme's web through `steps`: deploys of `image` at a new tag, or at one of the `failing` tags (images the
 * runtime's fake never gets ready: `crashloop`, whose container restarts without end, by default), the owner's asks,
 * the tenant's suspensions and reactivations, and `pass`es; then reactivates the tenant. The revisions of the failing
 * images.
 */
export async function takeThrough(
  deps: RegistryDeps,
  image: string,
  steps: WorkloadStep[],
  pass: () => Promise<unknown>,
  failing: readonly string[] = ['crashloop'],
): Promise<Set<number>> {
  const failed = new Set<number>();
  let tags = 1;
  for (const s of steps) {
    if (s.kind === 'deploy') {
      await refusedOrDone(async () => {
        const { revision } = await deploy(deps, 'acme', 'web', {
          image: `${image}:${s.fails ? failing[s.way % failing.length] : ++tags}`,
        });
        if (s.fails) failed.add(revision);
      });
    } else if (s.kind === 'suspend') await updateTenant(deps, 'acme', { status: 'suspended' });
    else if (s.kind === 'reactivate') await updateTenant(deps, 'acme', { status: 'active' });
    else if (s.kind === 'pass') await pass();
    else await ask(deps, s);
  }
  await updateTenant(deps, 'acme', { status: 'active' });
  return failed;
}

/**
 * Runs `change`; what the API refuses as things stand (a rollback with nothing to go back to, a restart of a stopped
 * app, any change while the tenant is suspended) is no failure of the model.
 */
async function refusedOrDone(change: () => Promise<unknown>) {
  try {
    await change();
  } catch (err) {
    if (!(err instanceof ConflictError || isDomainError(err, 'tenant.suspended'))) throw err;
  }
}

/**
 * What a model test expects of acme's app web once passes have settled it, given what of it runs (`running`): only
 * its latest deployment may be open (an app stopped mid-rollout keeps it so) and no revision in `failing` went live;
 * then it is stopped with nothing running; or its latest deployment failed with nothing that went live to go back to,
 * and nothing runs; or its latest deployment succeeded and it runs at its replicas on the live revision, which
 * `onLive` checks of what runs.
 */
export async function expectSettled<T>(
  deps: CoreDeps,
  failing: ReadonlySet<number>,
  running: (app: AppRecord) => Promise<T[]>,
  onLive: (app: AppRecord, running: T[]) => void,
) {
  const app = await getAppRecord(deps, 'acme', 'web');
  const [latest, ...earlier] = (await listDeployments(deps, 'acme', 'web', { limit: 100 })).items;
  const runs = await running(app);
  expect(earlier.filter((d) => d.status === 'pending' || d.status === 'in_progress')).toEqual([]);
  expect(app.currentRevision === null || !failing.has(app.currentRevision)).toBe(true);
  if (app.status === 'stopped') {
    expect(runs).toEqual([]);
    return;
  }
  expect(latest?.status).toBeOneOf(['succeeded', 'failed']);
  if (latest?.status === 'failed') {
    expect(app).toMatchObject({ status: 'failed', readyReplicas: 0, currentRevision: null });
    expect(runs).toEqual([]);
    return;
  }
  expect(app).toMatchObject({
    status: 'running',
    readyReplicas: app.replicas,
    currentRevision: app.targetRevision,
  });
  onLive(app, runs);
}

/** `values` in turn, over and over, one a call; `otherwise` while there are none. */
export function inTurn<T>(values: readonly T[], otherwise: T): () => T {
  let next = 0;
  return () => values[next++ % values.length] ?? otherwise;
}

/**
 * That no deployment of acme's web ended failed or rolled back but those of the revisions in `failing`: an image that
 * gets ready is never taken for a failure, whatever the runtime said meanwhile (where the model's replicas fail only
 * by their image).
 */
export async function expectOnlyFailingFailed(deps: CoreDeps, failing: ReadonlySet<number>) {
  const { items } = await listDeployments(deps, 'acme', 'web', { limit: 100 });
  const ended = items.filter((d) => d.status === 'failed' || d.status === 'rolled_back');
  expect(ended.filter((d) => !failing.has(d.revision))).toEqual([]);
}
