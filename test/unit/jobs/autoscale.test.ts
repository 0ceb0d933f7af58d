import { describe, expect, it } from 'vitest';
import { createApp, getAppRecord, scaleApp, stopApp } from '../../../functions/core/apps.ts';
import { WARM_UP_MS } from '../../../functions/core/autoscale.ts';
import { createPlan } from '../../../functions/core/plans.ts';
import type { CoreDeps, Replica } from '../../../functions/core/ports.ts';
import { createTenant, updateTenant } from '../../../functions/core/tenants.ts';
import { type AutoscaleDeps, autoscale } from '../../../functions/jobs/autoscale.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';
import { replica } from '../../fakes/fake-runtime.ts';
import { overlapCounter } from '../../support/overlap-counter.ts';

const scaling = { min: 1, max: 4, targetCpuPercent: 50 };
const spec = { image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080, scaling };

/** One run of the scale job over `views`, with what it logged. */
async function scaleOnce(deps: Awaited<ReturnType<typeof fakeCoreDeps>>, views: AutoscaleDeps['views']) {
  const errors: Record<string, unknown>[] = [];
  const run = await autoscale({
    ...deps,
    logger: { error: (_message, details) => errors.push(details) },
    views,
  });
  return { run, errors };
}

/** What the app's events say of its autoscaling: each scale, and each hold. */
const autoscalingTold = (deps: Awaited<ReturnType<typeof fakeCoreDeps>>) =>
  deps.store.events.filter((e) => e.type === 'scaled' || e.type === 'scaleOutHeld').map((e) => e.message);

/** Tenant acme (on pro) with its app `web`: `spec`, with `fields` in place of its own. */
async function acmeWeb(fields: Partial<Parameters<typeof createApp>[2]> = {}) {
  const deps = await fakeCoreDeps();
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  await createApp(deps, 'acme', { ...spec, name: 'web', ...fields });
  return deps;
}

/** Tenant acme (on pro) on an install running Docker and EKS: its app `onDocker` on the one, `on-eks` on the other. */
async function acmeOnDockerAndEks(onDocker: string) {
  const deps = await fakeCoreDeps();
  deps.runtimes = ['docker', 'eks'];
  await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
  await createApp(deps, 'acme', { ...spec, name: onDocker });
  await createApp(deps, 'acme', { ...spec, name: 'on-eks', runtime: 'eks' });
  return deps;
}

/** Acme's app `web` done deploying: running its revision 1, as the reconciler's rollout leaves it. */
async function deployed(deps: Awaited<ReturnType<typeof fakeCoreDeps>>) {
  const app = await getAppRecord(deps, 'acme', 'web');
  await deps.store.writeRollout({
    app: { record: { ...app, status: 'running', currentRevision: 1 }, read: app },
  });
}

/** Tenant acme (on pro) with its app `web`, scaling from 1 to 2 replicas on CPU. */
const webUpToTwo = () => acmeWeb({ scaling: { min: 1, max: 2, targetCpuPercent: 50 } });

/** Docker's view of acme's app `web`: as many replicas running as the app has, each at `cpuPercent()`. */
function webOnDocker(
  deps: Awaited<ReturnType<typeof fakeCoreDeps>>,
  cpuPercent: () => number | Promise<number>,
) {
  const views: AutoscaleDeps['views'] = {
    docker: {
      runtime: {
        listReplicas: async () => {
          const app = await deps.store.getApp('acme', 'web');
          const at = '2026-11-22T09:00:00.000Z';
          return Array.from({ length: app?.replicas ?? 0 }, (_, i) => ({
            ...replica('acme', 'web', at),
            id: `r${i}`,
            appUid: app?.uid ?? '',
          }));
        },
      },
      metrics: {
        replicaStats: async (running) => {
          const cpu = await cpuPercent();
          return {
            windowSeconds: 60,
            stats: new Map(running.map((r) => [r.id, { cpuPercent: cpu, memoryPercent: 10, memoryMiB: 51 }])),
          };
        },
      },
    },
  };
  return views;
}

describe('the scale job', () => {
  it('lists the replicas once, looks at eight apps at once, and an app whose metrics fail holds up no other', async () => {
    const deps = await fakeCoreDeps();
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const names = Array.from({ length: 12 }, (_, i) => `app-${i}`);
    const replicas = new Map<string, Replica>();
    for (const name of names) {
      await createApp(deps, 'acme', { ...spec, name });
      replicas.set(name, {
        ...replica('acme', name, '2026-11-22T09:00:00.000Z'),
        id: name,
        appUid: (await deps.store.getApp('acme', name))?.uid ?? '',
      });
    }
    const listings: unknown[] = [];
    const stats = overlapCounter((running: Replica[]) => {
      if (running.some((r) => r.id === 'app-3')) throw new Error('metrics unavailable');
      // Twice the target: every app wants two replicas.
      const stats = new Map(
        running.map((r) => [r.id, { cpuPercent: 100, memoryPercent: 10, memoryMiB: 51 }]),
      );
      return { windowSeconds: 60, stats };
    }, 5);
    const { run, errors } = await scaleOnce(deps, {
      docker: {
        runtime: {
          listReplicas: async (filter) => {
            listings.push(filter);
            return [...replicas.values()];
          },
        },
        metrics: { replicaStats: stats.call },
      },
    });
    expect(run).toEqual({ scaled: 11, failed: 1 });
    // The whole runtime in one listing, not one an app.
    expect(listings).toEqual([undefined]);
    expect(stats.most).toBe(8);
    expect(errors).toEqual([{ tenantId: 'acme', app: 'app-3', error: new Error('metrics unavailable') }]);
    const apps = await deps.store.listApps('acme', { limit: 100 });
    expect(Object.fromEntries(apps.items.map((a) => [a.name, a.replicas]))).toEqual(
      Object.fromEntries(names.map((name) => [name, name === 'app-3' ? 1 : 2])),
    );
    // Each scale says why in its app's events, written with it: eleven, none for app-3.
    const scaled = deps.store.events.filter((e) => e.type === 'scaled');
    expect(scaled).toHaveLength(11);
    expect(scaled[0]).toMatchObject({
      message: 'autoscaled from 1 to 2 replicas: scale out (CPU at 100 %, target 50 %)',
      details: { from: 1, to: 2, recommended: 2, cpuPercent: 100, targetCpuPercent: 50, samples: 1 },
    });
  });

  it("fails a runtime's apps when its replicas cannot be listed, and scales the other runtimes' apps", async () => {
    const deps = await acmeOnDockerAndEks('on-docker');
    const onEks = (await deps.store.getApp('acme', 'on-eks'))?.uid ?? '';
    const busy = new Map([['pod', { cpuPercent: 100, memoryPercent: 10, memoryMiB: 51 }]]);
    const { run, errors } = await scaleOnce(deps, {
      docker: {
        runtime: { listReplicas: async () => Promise.reject(new Error('docker is down')) },
        metrics: { replicaStats: async () => ({ windowSeconds: 1, stats: new Map() }) },
      },
      eks: {
        runtime: {
          listReplicas: async () => [
            { ...replica('acme', 'on-eks', '2026-11-22T09:00:00.000Z'), id: 'pod', appUid: onEks },
          ],
        },
        metrics: { replicaStats: async () => ({ windowSeconds: 60, stats: busy }) },
      },
    });
    expect(run).toEqual({ scaled: 1, failed: 1 });
    expect(errors).toEqual([{ tenantId: 'acme', app: 'on-docker', error: new Error('docker is down') }]);
    expect((await deps.store.getApp('acme', 'on-eks'))?.replicas).toBe(2);
  });

  it('leaves an app on a runtime it has no view of (one the install no longer runs), neither scaled nor failed', async () => {
    const deps = await acmeOnDockerAndEks('web');
    const { run, errors } = await scaleOnce(
      deps,
      webOnDocker(deps, () => 100),
    );
    expect(run).toEqual({ scaled: 1, failed: 0 });
    expect(errors).toEqual([]);
    expect((await deps.store.getApp('acme', 'on-eks'))?.replicas).toBe(1);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 1 to 2 replicas: scale out (CPU at 100 %, target 50 %)',
    ]);
  });

  it('goes by the replicas that serve, not one stopping (out of traffic, idle) nor one not running yet', async () => {
    const deps = await acmeWeb();
    const uid = (await deps.store.getApp('acme', 'web'))?.uid ?? '';
    const of = (id: string, extra: Partial<Replica> = {}): Replica => ({
      ...replica('acme', 'web', '2026-11-22T09:00:00.000Z'),
      id,
      appUid: uid,
      ...extra,
    });
    const sampled: string[][] = [];
    const { run } = await scaleOnce(deps, {
      docker: {
        runtime: {
          listReplicas: async () => [
            of('serving'),
            of('leaving', { stopping: true }),
            of('starting', { state: 'pending' }),
          ],
        },
        metrics: {
          replicaStats: async (running) => {
            sampled.push(running.map((r) => r.id));
            // The leaving one idles: counted, it would halve the app's CPU to its target.
            const cpu = (id: string) => (id === 'leaving' ? 0 : 100);
            const stats = new Map(
              running.map((r) => [r.id, { cpuPercent: cpu(r.id), memoryPercent: 10, memoryMiB: 51 }]),
            );
            return { windowSeconds: 60, stats };
          },
        },
      },
    });
    expect(sampled).toEqual([['serving']]);
    expect(run).toEqual({ scaled: 1, failed: 0 });
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(2);
  });

  it('leaves an app to a change made while the run looked at it, and counts it neither scaled nor failed', async () => {
    const deps = await acmeWeb();
    const uid = (await deps.store.getApp('acme', 'web'))?.uid ?? '';
    const { run, errors } = await scaleOnce(deps, {
      docker: {
        runtime: {
          listReplicas: async () => [
            { ...replica('acme', 'web', '2026-11-22T09:00:00.000Z'), id: 'r1', appUid: uid },
          ],
        },
        metrics: {
          // Twice the target, read while the tenant scales the app by hand to 3.
          replicaStats: async () => {
            await scaleApp(deps, 'acme', 'web', 3);
            return {
              windowSeconds: 60,
              stats: new Map([['r1', { cpuPercent: 100, memoryPercent: 10, memoryMiB: 51 }]]),
            };
          },
        },
      },
    });
    expect(run).toEqual({ scaled: 0, failed: 0 });
    expect(errors).toEqual([]);
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(3);
    expect(deps.store.events.filter((e) => e.type === 'scaled').map((e) => e.details)).toEqual([
      expect.objectContaining({ from: 1, to: 3 }),
    ]);
  });

  it('sets replicas in their warm-up aside: a start’s burst scales nothing, nor a scale out’s new replicas', async () => {
    const deps = await acmeWeb();
    const uid = (await deps.store.getApp('acme', 'web'))?.uid ?? '';
    // Each replica starts when the app first has it, and burns a CPU from then on, as a runtime starting up does.
    const startedAt: string[] = [];
    const views: AutoscaleDeps['views'] = {
      docker: {
        runtime: {
          listReplicas: async () => {
            const app = await deps.store.getApp('acme', 'web');
            return Array.from({ length: app?.replicas ?? 0 }, (_, i) => {
              startedAt[i] ??= deps.clock.now().toISOString();
              return { ...replica('acme', 'web', startedAt[i] ?? ''), id: `r${i}`, appUid: uid };
            });
          },
        },
        metrics: {
          replicaStats: async (running) => ({
            windowSeconds: 60,
            stats: new Map(running.map((r) => [r.id, { cpuPercent: 100, memoryPercent: 10, memoryMiB: 51 }])),
          }),
        },
      },
    };
    for (let i = 0; i < 4; i++) {
      await scaleOnce(deps, views);
      deps.clock.advance(30_000);
    }
    expect(autoscalingTold(deps)).toEqual([]);
    deps.clock.advance(WARM_UP_MS);
    await scaleOnce(deps, views);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 1 to 2 replicas: scale out (CPU at 100 %, target 50 %)',
    ]);
    // The new replica burns as it starts, counted idle until its warm-up ends: the first is on target for both.
    for (let i = 0; i < 3; i++) {
      deps.clock.advance(30_000);
      await scaleOnce(deps, views);
    }
    expect(autoscalingTold(deps)).toHaveLength(1);
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(2);
    // Past it, both at 100 % are load: out again, by the figures of both.
    deps.clock.advance(WARM_UP_MS);
    await scaleOnce(deps, views);
    expect(autoscalingTold(deps).at(-1)).toBe(
      'autoscaled from 2 to 4 replicas: scale out (CPU at 100 %, target 50 %)',
    );
  });

  it('tells a scale out held back once while it lasts, and again when it comes back', async () => {
    const deps = await webUpToTwo();
    let cpuPercent = 200;
    const views = webOnDocker(deps, () => cpuPercent);
    await scaleOnce(deps, views); // 1 → 2 of the 4 wanted
    await scaleOnce(deps, views); // 8 wanted: held by the same maximum, which its scale said
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 1 to 2 replicas: scale out, 4 wanted but the maximum is 2 (CPU at 200 %, target 50 %)',
    ]);
    cpuPercent = 50;
    await scaleOnce(deps, views); // on target: nothing holds it
    cpuPercent = 100;
    await scaleOnce(deps, views);
    await scaleOnce(deps, views);
    expect(autoscalingTold(deps).slice(1)).toEqual([
      'autoscaling held at 2 replicas: scale out, 4 wanted but the maximum is 2 (CPU at 100 %, target 50 %)',
    ]);
    expect(deps.store.events.at(-1)?.details).toMatchObject({ recommended: 4, cpuPercent: 100, max: 2 });
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(2);
  });

  it('tells a hold that follows a scale out lost to a change made by hand', async () => {
    const deps = await webUpToTwo();
    let byHand = true;
    const views = webOnDocker(deps, async () => {
      // Read while the tenant scales the app to 2 by hand, once: the job's own 1 → 2 (to its maximum) is not made.
      if (byHand) await scaleApp(deps, 'acme', 'web', 2);
      byHand = false;
      return 200;
    });
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 0, failed: 0 });
    await scaleOnce(deps, views); // 8 wanted, held by the maximum, which nothing has said
    expect(autoscalingTold(deps)).toEqual([
      'scaled from 1 to 2 replicas',
      'autoscaling held at 2 replicas: scale out, 8 wanted but the maximum is 2 (CPU at 200 %, target 50 %)',
    ]);
  });

  it('scales nothing up while the tenant is over its monthly cap, and says so once', async () => {
    const deps = await fakeCoreDeps();
    const limits = { apps: 5, instancesPerApp: 5, vcpu: 4, memoryMiB: 8192, maxMonthlyCost: 10 };
    await createPlan(deps, { id: 'capped', name: 'Capped', limits });
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'capped' });
    await createApp(deps, 'acme', { ...spec, name: 'web' });
    const exceeded = {
      period: '2026-11',
      level: 'exceeded' as const,
      costMicroUsd: 10e6,
      instanceSeconds: 0,
    };
    await deps.store.putUsageCapState('acme', exceeded, undefined);
    const views = webOnDocker(deps, () => 100);
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 0, failed: 0 });
    await scaleOnce(deps, views);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaling held at 1 replica: scale out, 2 wanted but the tenant has reached its monthly cap (CPU at 100 %, target 50 %)',
    ]);
    // A new month lifts it.
    deps.clock.advance(9 * 86_400_000);
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 1, failed: 0 });
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(2);
  });

  it('takes an app to zero while a schedule with max 0 is in force, and back with the next schedule’s min', async () => {
    const nights = {
      min: 1,
      max: 4,
      targetCpuPercent: 50,
      schedules: [
        { cron: '0 20 * * *', min: 0, max: 0 },
        { cron: '0 8 * * *', min: 2, max: 4 },
      ],
    };
    const deps = await acmeWeb({ scaling: nights, replicas: 2 });
    const views = webOnDocker(deps, () => 50);
    const replicas = async () => (await deps.store.getApp('acme', 'web'))?.replicas;
    // 10:00 (the clock's start): the morning's 2–4 hold, and 2 run on target.
    await scaleOnce(deps, views);
    expect(await replicas()).toBe(2);
    deps.clock.advance(10 * 3_600_000 + 60_000); // 20:01
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 1, failed: 0 });
    expect(await replicas()).toBe(0);
    // With nothing running there is nothing to measure: it stays at zero through the night.
    deps.clock.advance(3_600_000);
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 0, failed: 0 });
    deps.clock.advance(11 * 3_600_000); // 08:01 the next day
    await scaleOnce(deps, views);
    expect(await replicas()).toBe(2);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 2 to 0 replicas: above the maximum 0 of schedule "0 20 * * *"',
      'autoscaled from 0 to 2 replicas: below the minimum 2 of schedule "0 8 * * *"',
    ]);
  });

  it.each([
    ['stopped', (deps: CoreDeps) => stopApp(deps, 'acme', 'web')],
    ['suspended', (deps: CoreDeps) => updateTenant(deps, 'acme', { status: 'suspended' })],
  ] as const)(
    'leaves a %s app alone, its schedules too: its count stays as it was',
    async (status, pause) => {
      const mornings = { min: 1, max: 4, schedules: [{ cron: '0 8 * * *', min: 3, max: 4 }] };
      const deps = await acmeWeb({ scaling: mornings, replicas: 1 });
      await pause(deps);
      const paused = await deps.store.getApp('acme', 'web');
      const views = webOnDocker(deps, () => 50);
      // 10:00 (the clock's start): the morning's schedule, in force, would take a running app to 3.
      expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 0, failed: 0 });
      // A stopped app stays stopped; a suspended tenant's keeps the status it had.
      expect(await deps.store.getApp('acme', 'web')).toMatchObject({ status: paused?.status, replicas: 1 });
      if (status === 'stopped') expect(paused?.status).toBe('stopped');
      expect(autoscalingTold(deps)).toEqual([]);
    },
  );

  it('holds a scale in while the app deploys, and makes it once the deployment is done', async () => {
    const idle = { min: 1, max: 4, targetCpuPercent: 50, scaleInStabilizationSeconds: 60 };
    const deps = await acmeWeb({ scaling: idle, replicas: 2 });
    const views = webOnDocker(deps, () => 0);
    const replicas = async () => (await deps.store.getApp('acme', 'web'))?.replicas;
    // Just created, the app deploys: its idle replicas are not taken away meanwhile, however long it takes.
    await scaleOnce(deps, views);
    deps.clock.advance(61_000);
    await scaleOnce(deps, views);
    expect(await replicas()).toBe(2);
    await deployed(deps);
    deps.clock.advance(61_000);
    await scaleOnce(deps, views);
    expect(await replicas()).toBe(1);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 2 to 1 replica: scale in after the stabilization window (CPU at 0 %, target 50 %)',
    ]);
    // Measured at 0 %, which the event's details say as a figure, not as none.
    expect(deps.store.events.at(-1)?.details).toMatchObject({ cpuPercent: 0, targetCpuPercent: 50 });
  });

  it('scales in only once the stabilization window has seen nothing but the lower count', async () => {
    const idle = { min: 1, max: 4, targetCpuPercent: 50, scaleInStabilizationSeconds: 60 };
    const deps = await acmeWeb({ scaling: idle, replicas: 2 });
    await deployed(deps);
    const views = webOnDocker(deps, () => 0);
    const replicas = async () => (await deps.store.getApp('acme', 'web'))?.replicas;
    for (const advanceMs of [0, 30_000, 29_000]) {
      deps.clock.advance(advanceMs);
      await scaleOnce(deps, views);
      expect(await replicas()).toBe(2);
    }
    deps.clock.advance(2_000);
    await scaleOnce(deps, views);
    expect(await replicas()).toBe(1);
    expect(autoscalingTold(deps)).toEqual([
      'autoscaled from 2 to 1 replica: scale in after the stabilization window (CPU at 0 %, target 50 %)',
    ]);
    // What the decision went by, every figure of it.
    expect(deps.store.events.at(-1)?.details).toEqual({
      from: 2,
      to: 1,
      reason: 'scale in after the stabilization window',
      measured: 'CPU at 0 %, target 50 %',
      recommended: 1,
      cpuPercent: 0,
      memoryPercent: null,
      targetCpuPercent: 50,
      targetMemoryPercent: null,
      samples: 2,
      warmingUp: 0,
      min: 1,
      max: 4,
      schedule: null,
      stabilizationSeconds: 60,
    });
  });

  it('asks for no figures for an app that tracks none: its schedules and bounds alone move it', async () => {
    const workdays = {
      min: 1,
      max: 4,
      schedules: [
        { cron: '0 8 * * 1-5', min: 3, max: 4 },
        { cron: '0 18 * * *', min: 1, max: 4 },
      ],
    };
    const deps = await acmeWeb({ scaling: workdays });
    let asked = 0;
    const views = webOnDocker(deps, () => {
      asked++;
      return 90;
    });
    // 10:00 on a Sunday: the evenings' 1–4 hold since Saturday's…
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 0, failed: 0 });
    deps.clock.advance(22 * 3_600_000 + 60_000); // …08:01 on Monday
    expect((await scaleOnce(deps, views)).run).toEqual({ scaled: 1, failed: 0 });
    expect((await deps.store.getApp('acme', 'web'))?.replicas).toBe(3);
    expect(asked).toBe(0);
  });

  it('asks for the figures the app tracks alone, each a billed query a task on Fargate', async () => {
    const cases = [
      { targets: { targetCpuPercent: 50 }, figures: ['cpuPercent'], memoryPercent: null },
      { targets: { targetMemoryPercent: 5 }, figures: ['memoryPercent'], memoryPercent: 10 },
      {
        targets: { targetCpuPercent: 50, targetMemoryPercent: 5 },
        figures: ['cpuPercent', 'memoryPercent'],
        memoryPercent: 10,
      },
    ];
    for (const { targets, figures, memoryPercent } of cases) {
      const deps = await acmeWeb({ scaling: { min: 1, max: 2, ...targets } });
      const views = webOnDocker(deps, () => 100);
      const asked: unknown[] = [];
      const { metrics } = views.docker ?? {};
      if (!metrics) throw new Error('no view');
      const all = metrics.replicaStats.bind(metrics);
      metrics.replicaStats = (running, windowSeconds, wanted) => {
        asked.push(wanted);
        return all(running, windowSeconds, wanted);
      };
      await scaleOnce(deps, views);
      expect(asked).toEqual([figures]);
      // A figure not tracked is told as not read, whatever the runtime's sample held.
      const told = deps.store.events.find((e) => e.type === 'scaled')?.details;
      expect(told).toMatchObject({ memoryPercent });
    }
  });
});
