import { describe, expect, it } from 'vitest';
import {
  boundsAt,
  decideScale,
  recommendReplicas,
  trackWarmReplicas,
  WARM_UP_MS,
  warmedUp,
} from '../../../functions/core/autoscale.ts';
import type { ScalerState } from '../../../functions/core/ports.ts';
import { maxReplicasWithin } from '../../../functions/core/quota.ts';

const bounds = { min: 1, max: 10, schedule: null };
const base = { bounds, planMax: 100, capReached: false, deploying: false, windowSeconds: 300 };

/** An app of 1–4 replicas, 3–8 from a morning schedule's `cron` on and 1–2 from 20:00 on, both in Berlin. */
const berlinDay = (morning: string) => ({
  min: 1,
  max: 4,
  schedules: [
    { cron: morning, timezone: 'Europe/Berlin', min: 3, max: 8 },
    { cron: '0 20 * * *', timezone: 'Europe/Berlin', min: 1, max: 2 },
  ],
});

describe('autoscaling rules', () => {
  it('tracks targets: ceil(current × metric / target), the larger metric wins, ±10 % is on target', () => {
    expect(recommendReplicas(2, { cpuPercent: 90 }, { targetCpuPercent: 50 })).toBe(4);
    expect(recommendReplicas(4, { cpuPercent: 10 }, { targetCpuPercent: 50 })).toBe(1);
    expect(recommendReplicas(3, { cpuPercent: 53 }, { targetCpuPercent: 50 })).toBe(3);
    expect(
      recommendReplicas(
        2,
        { cpuPercent: 20, memoryPercent: 150 },
        { targetCpuPercent: 50, targetMemoryPercent: 50 },
      ),
    ).toBe(6);
    expect(recommendReplicas(2, { cpuPercent: 99 }, {})).toBe(2);
    expect(recommendReplicas(0, { cpuPercent: 80 }, { targetCpuPercent: 40 })).toBe(2);
  });

  it('goes by replicas past their warm-up, counting those warming up as idle on a scale out', () => {
    const at = (percent: number) => ({ cpuPercent: percent, memoryPercent: 10, memoryMiB: 51 });
    const targets = { targetCpuPercent: 50 };
    const start = Date.parse('2026-11-22T10:00:00Z');
    expect(warmedUp({ startedAt: '2026-11-22T10:00:00Z' }, start + WARM_UP_MS - 1)).toBe(false);
    expect(warmedUp({ startedAt: '2026-11-22T10:00:00Z' }, start + WARM_UP_MS)).toBe(true);
    expect(warmedUp({ startedAt: null }, start + WARM_UP_MS)).toBe(false);
    // Every replica in its warm-up (a start's burst): nothing to go by, the count stands.
    expect(trackWarmReplicas(2, [], 2, targets)).toEqual({
      utilisation: { cpuPercent: undefined, memoryPercent: undefined },
      recommended: 2,
    });
    // A scale out's new replica counted idle: the one past its warm-up at 100 % is on target for both.
    expect(trackWarmReplicas(2, [at(100)], 1, targets)).toMatchObject({
      utilisation: { cpuPercent: 100 },
      recommended: 2,
    });
    // Busy enough for the ones warming up too: out, by what the whole count would carry.
    expect(trackWarmReplicas(3, [at(100), at(100)], 1, targets).recommended).toBe(4);
    // The same when memory is the figure tracked.
    const memoryAt = (percent: number) => ({ cpuPercent: 10, memoryPercent: percent, memoryMiB: 51 });
    expect(
      trackWarmReplicas(3, [memoryAt(100), memoryAt(100)], 1, { targetMemoryPercent: 50 }).recommended,
    ).toBe(4);
    // A scale in goes by the replicas past their warm-up alone; with none warming up, as before.
    expect(trackWarmReplicas(4, [at(10)], 3, targets).recommended).toBe(1);
    expect(trackWarmReplicas(2, [at(90), at(90)], 0, targets).recommended).toBe(4);
  });

  it('never tracks an idle app down to zero, which nothing would measure again to bring it back', () => {
    expect(recommendReplicas(3, { cpuPercent: 0 }, { targetCpuPercent: 50 })).toBe(1);
    const idle = {
      current: 1,
      recommended: recommendReplicas(1, { cpuPercent: 0 }, { targetCpuPercent: 50 }),
      bounds: { min: 0, max: 2, schedule: null },
      planMax: 10,
      capReached: false,
      deploying: false,
      nowMs: 1_000_000,
      windowSeconds: 0,
      state: undefined,
    };
    expect(decideScale(idle).replicas).toBe(1);
    // Scaled to zero by hand, it stays there: with no replica there is no sample, and tracking keeps the count.
    const none = recommendReplicas(0, {}, { targetCpuPercent: 50 });
    expect(decideScale({ ...idle, current: 0, recommended: none }).replicas).toBe(0);
  });

  it('holds the count where max, the plan or the monthly cap stands, saying which in its reason and state', () => {
    const out = { ...base, current: 3, recommended: 5, nowMs: 0, state: undefined };
    const held = (input: Partial<Parameters<typeof decideScale>[0]>) => {
      const { replicas, reason, state } = decideScale({ ...out, ...input });
      return { replicas, reason, heldBy: state.heldBy };
    };
    expect(held({ bounds: { min: 1, max: 3, schedule: null } })).toEqual({
      replicas: 3,
      reason: 'scale out, 5 wanted but the maximum is 3',
      heldBy: 'the maximum is 3',
    });
    expect(held({ planMax: 3 })).toEqual({
      replicas: 3,
      reason: 'scale out, 5 wanted but the plan leaves room for 3',
      heldBy: 'the plan leaves room for 3',
    });
    // Over its monthly cap a tenant adds nothing: not by tracking, nor to reach a minimum; scaling in goes on.
    expect(held({ capReached: true })).toEqual({
      replicas: 3,
      reason: 'scale out, 5 wanted but the tenant has reached its monthly cap',
      heldBy: 'the tenant has reached its monthly cap',
    });
    expect(held({ capReached: true, bounds: { min: 4, max: 10, schedule: null }, recommended: 3 })).toEqual({
      replicas: 3,
      reason: 'below the minimum 4 but the tenant has reached its monthly cap',
      heldBy: 'the tenant has reached its monthly cap',
    });
    expect(held({ capReached: true, recommended: 1, windowSeconds: 0 })).toEqual({
      replicas: 1,
      reason: 'scale in after the stabilization window',
      heldBy: undefined,
    });
    // Nothing holds a scale out that goes all the way, nor an app on target.
    expect(held({})).toEqual({ replicas: 5, reason: 'scale out', heldBy: undefined });
    expect(held({ recommended: 3, capReached: true })).toEqual({
      replicas: 3,
      reason: 'on target',
      heldBy: undefined,
    });
  });

  it('scales out at once but never past max or the plan, saying which held it', () => {
    const out = { ...base, current: 2, nowMs: 0, state: undefined };
    expect(decideScale({ ...out, recommended: 5 })).toMatchObject({ replicas: 5, reason: 'scale out' });
    expect(decideScale({ ...out, recommended: 50 })).toMatchObject({
      replicas: 10,
      reason: 'scale out, 50 wanted but the maximum is 10',
    });
    expect(decideScale({ ...out, planMax: 3, recommended: 50 })).toMatchObject({
      replicas: 3,
      reason: 'scale out, 50 wanted but the plan leaves room for 3',
    });
    const scheduled = { min: 1, max: 4, schedule: '0 8 * * MON-FRI' };
    expect(decideScale({ ...out, bounds: scheduled, recommended: 6 })).toMatchObject({
      replicas: 4,
      reason: 'scale out, 6 wanted but the maximum of schedule "0 8 * * MON-FRI" is 4',
    });
  });

  it('scales in only to the highest recommendation of a full window, and not during a deployment', () => {
    let state: ScalerState | undefined;
    const step = (nowMs: number, recommended: number, current: number, deploying = false) => {
      const decision = decideScale({
        ...base,
        windowSeconds: 60,
        deploying,
        current,
        recommended,
        nowMs,
        state,
      });
      state = decision.state;
      return decision.replicas;
    };
    expect(step(0, 6, 6)).toBe(6);
    expect(step(10_000, 2, 6)).toBe(6); // history does not span the window yet
    expect(step(30_000, 3, 6)).toBe(6);
    expect(step(61_000, 2, 6)).toBe(3); // 0 s (6) has left the window; 30 s (3) is the highest in it
    expect(step(95_000, 1, 3)).toBe(2); // 61 s (2) still in the window
    expect(step(200_000, 1, 2, true)).toBe(2); // held during a deployment
    expect(step(201_000, 1, 2)).toBe(1);
    // What the app's state keeps: the window's recommendations and the last one before it, not every one made.
    expect(state?.recommendations.map((r) => r.at)).toEqual([95_000, 200_000, 201_000]);
  });

  it('skips a schedule time the clocks skip in spring, and keeps its bounds through the hour they repeat', () => {
    const scaling = berlinDay('30 2 * * *');
    // 2026-03-29 in Berlin goes from 02:00 straight to 03:00: no 02:30, so the evening's bounds hold all day …
    expect(boundsAt(scaling, new Date('2026-03-29T10:00:00Z'))).toMatchObject({ min: 1, max: 2 });
    // … and 02:30 the next night fires again (00:30Z at +02:00)
    expect(boundsAt(scaling, new Date('2026-03-30T00:30:00Z'))).toMatchObject({ min: 3, max: 8 });
    // 2026-10-25 has 02:30 twice (00:30Z at +02:00, 01:30Z at +01:00): its bounds from the first, still after the second
    expect(boundsAt(scaling, new Date('2026-10-25T00:29:00Z'))).toMatchObject({ min: 1, max: 2 });
    expect(boundsAt(scaling, new Date('2026-10-25T01:00:00Z'))).toMatchObject({ min: 3, max: 8 });
    expect(boundsAt(scaling, new Date('2026-10-25T02:00:00Z'))).toMatchObject({ min: 3, max: 8 });
  });

  it('applies the schedule that fired last, in its time zone', () => {
    const scaling = berlinDay('0 8 * * 1-5');
    // Monday 2026-11-23 08:30 Berlin = 07:30Z: the 08:00 schedule is in force
    expect(boundsAt(scaling, new Date('2026-11-23T07:30:00Z'))).toEqual({
      min: 3,
      max: 8,
      schedule: '0 8 * * 1-5',
    });
    // 07:59 Berlin: the evening schedule of the day before still holds
    expect(boundsAt(scaling, new Date('2026-11-23T06:59:00Z'))).toMatchObject({ min: 1, max: 2 });
    // exactly at 08:00 Berlin it takes effect
    expect(boundsAt(scaling, new Date('2026-11-23T07:00:00Z'))).toMatchObject({ min: 3, max: 8 });
    expect(boundsAt({ min: 2, max: 5 }, new Date())).toEqual({ min: 2, max: 5, schedule: null });
    // a UTC offset is a time zone too: 08:00 at +01:00 is 07:00Z
    const byOffset = {
      ...scaling,
      schedules: scaling.schedules.map((schedule) => ({ ...schedule, timezone: '+01:00' })),
    };
    expect(boundsAt(byOffset, new Date('2026-11-23T06:59:00Z'))).toMatchObject({ min: 1, max: 2 });
    expect(boundsAt(byOffset, new Date('2026-11-23T07:00:00Z'))).toMatchObject({ min: 3, max: 8 });
    // days by name read as their numbers: Saturday 2026-11-28 10:00 Berlin, so Friday evening's schedule holds
    const byName = berlinDay('0 8 * * MON-FRI');
    expect(boundsAt(byName, new Date('2026-11-28T09:00:00Z'))).toMatchObject({ min: 1, max: 2 });
    expect(boundsAt(byName, new Date('2026-11-23T07:30:00Z'))).toMatchObject({ min: 3, max: 8 });
    // above a lowered max: down at once, saying which schedule lowered it
    const evening = { min: 1, max: 2, schedule: '0 20 * * *' };
    const lowered = { ...base, bounds: evening, current: 6, recommended: 6, nowMs: 0, state: undefined };
    expect(decideScale(lowered)).toMatchObject({
      replicas: 2,
      reason: 'above the maximum 2 of schedule "0 20 * * *"',
    });
    expect(decideScale({ ...lowered, planMax: 1 })).toMatchObject({
      replicas: 1,
      reason: 'above the 1 the plan leaves room for',
    });
    expect(
      decideScale({
        ...lowered,
        bounds: { min: 3, max: 8, schedule: '0 8 * * 1-5' },
        current: 1,
        recommended: 1,
      }),
    ).toMatchObject({ replicas: 3, reason: 'below the minimum 3 of schedule "0 8 * * 1-5"' });
    expect(decideScale({ ...lowered, bounds: { min: 1, max: 2, schedule: null } })).toMatchObject({
      reason: 'above the maximum 2',
    });
  });

  it('knows how many replicas the plan leaves room for', () => {
    const limits = { apps: 5, instancesPerApp: 10, vcpu: 2, memoryMiB: 8192 };
    const app = { spec: { cpu: 0.25, memory: 512 } as never, replicas: 2, status: 'running' as const };
    // 2 replicas hold 0.5 vCPU; the tenant holds 1.5 in total → 0.5 + 0.5 free = 4 replicas of 0.25
    expect(maxReplicasWithin(limits, { apps: 2, vcpuMilli: 1500, memoryMiB: 3072 }, app)).toBe(4);
    expect(
      maxReplicasWithin({ ...limits, instancesPerApp: 3 }, { apps: 1, vcpuMilli: 500, memoryMiB: 1024 }, app),
    ).toBe(3);
  });
});
