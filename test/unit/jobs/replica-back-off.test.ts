import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, getAppRecord, scaleApp, stopApp } from '../../../functions/core/apps.ts';
import { deploy, listDeployments, rollback } from '../../../functions/core/deployments.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';
import type { Reconciler } from '../../../functions/jobs/reconcile.ts';
import type { ScriptedRuntime } from '../../fakes/scripted-runtime.ts';
import { scriptedWorld } from '../../support/scripted-world.ts';

const WEB = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

describe('the back-off of a failing replica and the circuit breaker, as a pass sees them', () => {
  let deps: Awaited<ReturnType<typeof scriptedWorld>>['deps'];
  let runtime: ScriptedRuntime;
  let reconcilerOf: Awaited<ReturnType<typeof scriptedWorld>>['reconcilerOf'];
  let reconciler: Reconciler;

  beforeEach(async () => {
    ({ deps, runtime, reconcilerOf } = await scriptedWorld());
    reconciler = reconcilerOf('test');
  });

  /** A pass over the app, `ms` after the last. */
  const passAfter = async (ms: number) => {
    deps.clock.advance(ms);
    await reconciler.reconcileApp('acme', 'web');
  };

  it('replaces a slot at once after its first failure, then only after a second, and so on', async () => {
    await createApp(deps, 'acme', WEB);
    await passAfter(0);
    runtime.crash(1);
    await passAfter(100); // the first failure: replaced at once
    expect(runtime.startsOf(1)).toBe(2);
    runtime.crash(1);
    await passAfter(100); // the second: its replacement waits a second
    expect(runtime.startsOf(1)).toBe(2);
    await passAfter(900);
    expect(runtime.startsOf(1)).toBe(2);
    await passAfter(100);
    expect(runtime.startsOf(1)).toBe(3);
    runtime.crash(1);
    await passAfter(100); // the third trips the circuit breaker: nothing to go back to
    const [deployment] = (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items;
    expect(deployment).toMatchObject({ status: 'failed', failedStarts: 3 });
    await passAfter(10_000);
    expect(runtime.startsOf(1)).toBe(3);
    // The third failure in a row of a slot that never served is told as a crash loop, before the deployment fails.
    expect(
      deps.store.events.slice(-2).map(({ type, message, details }) => ({ type, message, details })),
    ).toEqual([
      { type: 'crashLoop', message: 'replica 0 of revision 1 keeps failing', details: { failures: 3 } },
      {
        type: 'deploymentFailed',
        message:
          'deployment of revision 1 failed: 3 replicas failed (circuit breaker at 3); the last exited with code 3',
        details: { deployment: deployment?.id },
      },
    ]);
  });

  it('tells each failure with the replica, its revision, its exit code and why it exited', async () => {
    await createApp(deps, 'acme', WEB);
    await passAfter(0);
    const [crashed] = runtime.replicas.values();
    runtime.crash(1);
    Object.assign(crashed ?? {}, { exitReason: 'OOMKilled' });
    await passAfter(100);
    expect(deps.store.events.filter((e) => e.type === 'replicaExited')).toEqual([
      expect.objectContaining({
        message: 'replica 0 exited with code 3 (OOMKilled)',
        details: { replica: crashed?.id, revision: 1, exitCode: 3, reason: 'OOMKilled' },
      }),
    ]);
  });

  it('counts failures before replacing them: slots that failed twice wait, and the breaker rolls back without a third round', async () => {
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    for (let pass = 0; pass < 5; pass++) await passAfter(1_000);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', currentRevision: 1 });

    await deploy(deps, 'acme', 'web', { command: ['sh', '-c', 'exit 3'] });
    await passAfter(100);
    runtime.crash(2);
    await passAfter(100); // two failures: both replaced at once
    runtime.crash(2);
    await passAfter(100); // four: past the breaker (3); their slots' back-off holds their replacements
    expect(runtime.startsOf(2)).toBe(4);
    const [, failed] = (await listDeployments(deps, 'acme', 'web', { limit: 2 })).items;
    expect(failed).toMatchObject({ revision: 2, status: 'rolled_back', failedStarts: 4 });
    // The failures are told before the rollback, and nothing of revision 2 is heard of after it.
    expect(deps.store.events.map((e) => e.type).slice(-3)).toEqual([
      'replicaExited',
      'replicaExited',
      'rolledBack',
    ]);
  });

  it('starts nothing more of a revision whose replicas trip its breaker all at once, and rolls back', async () => {
    await createApp(deps, 'acme', { ...WEB, replicas: 3 });
    for (let pass = 0; pass < 5; pass++) await passAfter(1_000);
    await deploy(deps, 'acme', 'web', { command: ['sh', '-c', 'exit 3'] });
    await passAfter(100);
    runtime.crash(2);
    await passAfter(100); // three failures, the breaker's threshold: their first, yet none is replaced
    expect(runtime.startsOf(2)).toBe(3);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ targetRevision: 1, currentRevision: 1 });
    const [, failed] = (await listDeployments(deps, 'acme', 'web', { limit: 2 })).items;
    expect(failed).toMatchObject({ revision: 2, status: 'rolled_back', failedStarts: 3 });
  });

  it('rolls a failing revision back to the one that serves, though that one was superseded before it went live', async () => {
    await createApp(deps, 'acme', WEB);
    await passAfter(0); // revision 1's replica starts; its deployment goes live at a later pass
    // Revision 2 comes first: revision 1's deployment is superseded before any pass saw it succeed.
    await deploy(deps, 'acme', 'web', { command: ['sh', '-c', 'exit 3'] });
    // Its replica crashes as it starts, each time after its slot's back-off, until the breaker (3) trips.
    for (let pass = 0; pass < 4; pass++) {
      await passAfter(1_000);
      runtime.crash(2);
    }
    await passAfter(1_000);
    expect(runtime.startsOf(2)).toBe(3);
    const [back, failed, first] = (await listDeployments(deps, 'acme', 'web', { limit: 3 })).items;
    expect([first, failed, back]).toMatchObject([
      { revision: 1, status: 'superseded' },
      { revision: 2, status: 'rolled_back' },
      { revision: 1, trigger: 'rollback' },
    ]);
    // Revision 1's replica served throughout, and is the rollback's: nothing of it was stopped or started again.
    expect(runtime.startsOf(1)).toBe(1);
    await passAfter(1_000);
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      status: 'running',
      targetRevision: 1,
      currentRevision: 1,
      readyReplicas: 1,
    });
  });

  it('counts against a rollback to the live revision only the starts made for it, not the crash of replicas that served before', async () => {
    await createApp(deps, 'acme', { ...WEB, replicas: 3 });
    await passAfter(0);
    await passAfter(0); // revision 1 is live on three replicas
    await deploy(deps, 'acme', 'web', { command: ['sh', '-c', 'exit 3'] });
    await rollback(deps, 'acme', 'web', undefined); // before any pass: back to revision 1, which still serves
    runtime.crash(1); // all three of its replicas, started for the first deployment
    await passAfter(0);
    await passAfter(1_000);
    const [back] = (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items;
    expect(back).toMatchObject({ revision: 1, trigger: 'rollback', status: 'succeeded', failedStarts: 0 });
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({ status: 'running', readyReplicas: 3 });
    expect(runtime.startsOf(1)).toBe(6);
  });

  it('starts a fresh back-off for a replica that served 10 s before it failed, as Kubernetes does', async () => {
    await createApp(deps, 'acme', WEB);
    await passAfter(0);
    runtime.crash(1);
    await passAfter(100); // the first failure: replaced at once
    for (let pass = 0; pass < 11; pass++) await passAfter(1_000); // its replacement serves on
    runtime.crash(1);
    await passAfter(100); // a first failure again, not a second: replaced at once
    expect(runtime.startsOf(1)).toBe(3);
  });

  it('counts none of the replicas it removes itself as failed: scaled in, replaced by a rollout, stopped', async () => {
    await createApp(deps, 'acme', { ...WEB, replicas: 2 });
    await passAfter(0);
    for (let round = 0; round < 3; round++) {
      await scaleApp(deps, 'acme', 'web', 1);
      await passAfter(100);
      await scaleApp(deps, 'acme', 'web', 2);
      await passAfter(100);
      // Slot 1 comes back at once each time: no back-off of a slot that never failed.
      expect(runtime.replicas.size).toBe(2);
    }
    await deploy(deps, 'acme', 'web', { env: { A: '1' } });
    for (let pass = 0; pass < 4; pass++) await passAfter(100);
    await stopApp(deps, 'acme', 'web');
    await passAfter(100);
    expect(runtime.replicas.size).toBe(0);
    const [deployed] = (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items;
    expect(deployed).toMatchObject({ revision: 2, status: 'succeeded', failedStarts: 0 });
    const failures = deps.store.events.filter((e) =>
      ['replicaExited', 'unhealthy', 'crashLoop'].includes(e.type),
    );
    expect(failures).toEqual([]);
  });

  it("counts no failure of the app's when the engine cannot be reached to start a replica: the pass fails", async () => {
    await createApp(deps, 'acme', WEB);
    const unreachable = new UnavailableError('Docker Engine did not answer within 10 s');
    vi.spyOn(runtime, 'startReplica').mockRejectedValueOnce(unreachable);
    await expect(passAfter(0)).rejects.toBe(unreachable);
    await passAfter(100);
    expect(runtime.replicas.size).toBe(1);
    const [deployment] = (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items;
    expect(deployment).toMatchObject({ failedStarts: 0 });
    expect(deps.store.events.map((e) => e.type)).not.toContain('replicaExited');
  });

  it('counts a start the engine refuses as a failure of its slot, with its words, until the breaker trips', async () => {
    runtime.refusal = 'No such image: registry.example.com/acme/web:1';
    await createApp(deps, 'acme', WEB);
    for (let pass = 0; pass < 100; pass++) await passAfter(100);
    const [deployment] = (await listDeployments(deps, 'acme', 'web', { limit: 1 })).items;
    expect(deployment).toMatchObject({
      status: 'failed',
      failedStarts: 3,
      reason:
        '3 replicas failed (circuit breaker at 3); the last could not start: No such image: registry.example.com/acme/web:1',
    });
    expect(
      deps.store.events
        .filter((e) => e.type === 'replicaExited')
        .map(({ message, details }) => ({ message, details })),
    ).toEqual(
      Array(3).fill({
        message: 'replica 0 could not start: No such image: registry.example.com/acme/web:1',
        details: { revision: 1 },
      }),
    );
    expect(await getAppRecord(deps, 'acme', 'web')).toMatchObject({
      status: 'failed',
      currentRevision: null,
    });
  });
});
