import { beforeEach, describe, expect, it } from 'vitest';
import { createApp, getAppRecord } from '../../../functions/core/apps.ts';
import type { RolloutWrite } from '../../../functions/core/ports.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { advanceRollout, latestDeployment, type RolloutProgress } from '../../../functions/jobs/rollout.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
const converged: RolloutProgress = {
  desired: 1,
  readyTarget: 1,
  routable: 1,
  converged: true,
  failedStarts: 0,
  started: false,
};

describe('advanceRollout', () => {
  let deps: Awaited<ReturnType<typeof fakeCoreDeps>> & { deploymentDeadlineMs: number };
  let writes: RolloutWrite[];
  beforeEach(async () => {
    deps = { ...(await fakeCoreDeps()), deploymentDeadlineMs: 60_000 };
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'free' });
    await createApp(deps, 'acme', { name: 'web', ...spec });
    writes = [];
    const write = deps.store.writeRollout.bind(deps.store);
    deps.store.writeRollout = (w) => {
      writes.push(w);
      return write(w);
    };
  });

  const pass = async (progress: RolloutProgress) => {
    const app = await getAppRecord(deps, 'acme', 'web');
    await advanceRollout(deps, app, await latestDeployment(deps, app), progress);
    return { app: await getAppRecord(deps, 'acme', 'web'), deployment: await latestDeployment(deps, app) };
  };

  it('finishes a deployment in the same write that shows the app running its revision', async () => {
    const { app, deployment } = await pass(converged);
    expect(deployment).toMatchObject({ status: 'succeeded' });
    expect(app).toMatchObject({ status: 'running', readyReplicas: 1, currentRevision: 1 });
    expect(writes).toEqual([
      {
        app: expect.objectContaining({ record: expect.objectContaining({ status: 'running' }) }),
        deployment: expect.objectContaining({ record: expect.objectContaining({ status: 'succeeded' }) }),
      },
    ]);
    expect(deps.store.events.map((e) => e.type)).toEqual(['deployed']);
  });

  it('writes nothing when the deployment moved on meanwhile, and tells nobody it succeeded', async () => {
    const app = await getAppRecord(deps, 'acme', 'web');
    const latest = await latestDeployment(deps, app);
    if (!latest) throw new Error('no deployment');
    // Another pass (another process) took the deployment on after this one read it.
    await deps.store.updateDeployment({ ...latest, status: 'in_progress' }, latest.status);
    await advanceRollout(deps, app, latest, converged);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'deploying', readyReplicas: 0 });
    expect(await latestDeployment(deps, app)).toMatchObject({ status: 'in_progress' });
    expect(deps.store.events).toEqual([]);
  });

  it('writes only the app while its deployment has nothing new', async () => {
    await pass(converged);
    writes.length = 0;
    const { app } = await pass({ ...converged, routable: 0, readyTarget: 0, converged: false });
    expect(app).toMatchObject({ status: 'degraded', readyReplicas: 0, currentRevision: 1 });
    expect(writes).toEqual([{ app: expect.anything() }]);
    writes.length = 0;
    await pass({ ...converged, routable: 0, readyTarget: 0, converged: false });
    expect(writes).toEqual([]);
  });
});
