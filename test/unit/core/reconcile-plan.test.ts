import { describe, expect, it } from 'vitest';
import type { AppRecord, DeploymentRecord, Replica } from '../../../functions/core/ports.ts';
import { planReconcile, type ReplicaHealth } from '../../../functions/core/reconcile-plan.ts';

const app = { status: 'deploying', replicas: 1, targetRevision: 2, restartedAt: null } as AppRecord;

const replica = (id: string, revision: number, state: Replica['state'] = 'running') =>
  ({ id, revision, slot: 0, state, createdAt: '2026-12-01T00:00:00.000Z' }) as Replica;

/** A pass over `replicas`, whose health is `health` by id (unknown: neither ready nor unhealthy). */
function plan(
  replicas: Replica[],
  health: Record<string, Partial<ReplicaHealth>>,
  {
    on = app,
    deployment,
    failures = 0,
  }: { on?: AppRecord; deployment?: DeploymentRecord; failures?: number } = {},
) {
  return planReconcile({
    app: on,
    tenantActive: true,
    deployment,
    replicas,
    health: (r) => ({ ready: false, unhealthy: false, ...health[r.id] }),
    history: () => ({ failures, lastFailureAt: 0 }),
    nowMs: 0,
  });
}

const ids = (replicas: Replica[]) => replicas.map((r) => r.id);

describe('planReconcile during a rollout', () => {
  it('keeps the old replica serving until the new one is ready, then replaces it', () => {
    const [old, next] = [replica('old', 1), replica('new', 2)];
    const starting = plan([old, next], { old: { ready: true } });
    expect(ids(starting.routable)).toEqual(['old']);
    expect(starting.remove).toEqual([]);
    expect(starting.converged).toBe(false);

    const ready = plan([old, next], { old: { ready: true }, new: { ready: true } });
    expect(ids(ready.routable)).toEqual(['new']);
    expect(ready.remove).toEqual([{ replica: old, reason: 'replaced' }]);
    expect(ready).toMatchObject({ converged: false, busy: false });

    expect(plan([next], { new: { ready: true } })).toMatchObject({
      remove: [],
      converged: true,
      busy: false,
    });
  });

  it('looks again soon while a slot of the target is empty, starting or backing off, or its replica unproven', () => {
    const next = replica('new', 2);
    expect(plan([], {})).toMatchObject({ start: [0], converged: false, busy: true });
    // A third failure in a row waits 2 s before the slot is started again: nothing starts, yet the pass is busy.
    expect(plan([], {}, { failures: 3 })).toMatchObject({ start: [], converged: false, busy: true });
    expect(plan([next], {})).toMatchObject({ remove: [], converged: false, busy: true });
  });

  it('takes a replica made in the millisecond of a restart for one of the restart', () => {
    const restarted = { ...app, restartedAt: '2026-12-01T00:00:00.000Z' };
    const pass = plan([replica('new', 2)], { new: { ready: true } }, { on: restarted });
    expect(pass).toMatchObject({ remove: [], converged: true });
  });

  it('keeps an old replica whose probes have yet to pass, out of traffic, as after a restart of the platform', () => {
    const [old, next] = [replica('old', 1), replica('new', 2)];
    const pass = plan([old, next], {});
    expect(pass.remove).toEqual([]);
    expect(pass.routable).toEqual([]);
    expect(pass.busy).toBe(true);
  });

  it('removes an old replica that failed its checks or exited, while the new one is not ready yet', () => {
    const [failed, exited, next] = [replica('failed', 1), replica('exited', 1, 'exited'), replica('new', 2)];
    const pass = plan([failed, exited, next], { failed: { ready: false, unhealthy: true } });
    expect(pass.remove).toEqual([
      { replica: failed, reason: 'replaced' },
      { replica: exited, reason: 'exited' },
    ]);
    expect(pass.routable).toEqual([]);
  });
});

describe('planReconcile after the target revision failed', () => {
  const failed = { revision: 2, status: 'failed' } as DeploymentRecord;
  const next = replica('new', 2);

  it('stops everything when no other revision ever served: there is nothing to go back to', () => {
    const none = plan([next], {}, { on: { ...app, currentRevision: null }, deployment: failed });
    expect(none.remove).toEqual([{ replica: next, reason: 'stopped' }]);
    expect(none.start).toEqual([]);
  });
});
