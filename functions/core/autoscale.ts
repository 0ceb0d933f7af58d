import { CronExpressionParser } from 'cron-parser';
import type { Scaling } from '../../schemas/app.ts';
import type { ScalerState } from './ports.ts';

export const DEFAULT_SCALE_IN_STABILIZATION_SECONDS = 300;
/** Utilisation within ±10 % of the target changes nothing (as Kubernetes' HPA), so replicas do not flap. */
const TOLERANCE = 0.1;

export interface Bounds {
  min: number;
  max: number;
  /** The cron of the schedule in force, if any. */
  schedule: string | null;
}

/**
 * The replica bounds in force at `now`: those of the schedule that fired last (each schedule sets min/max from its
 * time on), or the app's own when no schedule has fired.
 */
export function boundsAt(scaling: Scaling, now: Date): Bounds {
  let latest: { at: number; min: number; max: number; cron: string } | undefined;
  for (const schedule of scaling.schedules ?? []) {
    const fired = CronExpressionParser.parse(schedule.cron, {
      currentDate: new Date(now.getTime() + 1000),
      tz: schedule.timezone ?? 'UTC',
    })
      .prev()
      .getTime();
    if (!latest || fired > latest.at)
      latest = { at: fired, min: schedule.min, max: schedule.max, cron: schedule.cron };
  }
  return latest
    ? { min: latest.min, max: latest.max, schedule: latest.cron }
    : { min: scaling.min, max: scaling.max, schedule: null };
}

export interface Utilisation {
  cpuPercent?: number | undefined;
  memoryPercent?: number | undefined;
}

type Targets = Pick<Scaling, 'targetCpuPercent' | 'targetMemoryPercent'>;

/** The metrics target tracking goes by: each with a target and a sample, its value beside its target. */
export function trackedMetrics(utilisation: Utilisation, scaling: Targets) {
  const metrics = [
    { name: 'CPU', value: utilisation.cpuPercent, target: scaling.targetCpuPercent },
    { name: 'memory', value: utilisation.memoryPercent, target: scaling.targetMemoryPercent },
  ];
  return metrics.flatMap(({ name, value, target }) =>
    value === undefined || target === undefined ? [] : [{ name, value, target }],
  );
}

/**
 * Target tracking: `ceil(current × utilisation / target)` for each metric with a target, the largest wins; the
 * current count when no metric has a target or a sample. Never zero, even at 0 % and `min: 0`: with no replica
 * there is nothing to measure, so nothing would bring one back (Kubernetes' HPA keeps one too). An app goes to zero
 * only by POST /scale (with `min: 0`), and stays there: with no sample, tracking keeps the count.
 */
export function recommendReplicas(current: number, utilisation: Utilisation, scaling: Targets): number {
  const wanted = trackedMetrics(utilisation, scaling).map(({ value, target }) => {
    const ratio = value / target;
    if (Math.abs(ratio - 1) <= TOLERANCE) return current;
    return Math.max(1, Math.ceil(Math.max(current, 1) * ratio));
  });
  return wanted.length ? Math.max(...wanted) : current;
}

export interface ScaleDecision {
  replicas: number;
  reason: string;
  /** The count follows the metrics' recommendation (rather than bounds, a deployment or the window holding it). */
  tracking: boolean;
  state: ScalerState;
}

/**
 * What to scale to: out at once; in only to the highest recommendation of the stabilization window, and not while a
 * deployment runs; always within the bounds in force and what the plan leaves room for.
 */
export function decideScale(input: {
  current: number;
  recommended: number;
  bounds: Bounds;
  /** The most replicas the plan leaves room for. */
  planMax: number;
  deploying: boolean;
  nowMs: number;
  windowSeconds: number;
  state: ScalerState | undefined;
}): ScaleDecision {
  const { current, bounds, nowMs } = input;
  const max = Math.max(Math.min(bounds.max, input.planMax), 0);
  const clamp = (n: number) => Math.min(Math.max(n, bounds.min), max);
  const recommended = clamp(input.recommended);
  const since = nowMs - input.windowSeconds * 1000;
  // Keep one recommendation older than the window: it shows the history spans the window.
  const history = input.state?.recommendations ?? [];
  const lastBefore = history.filter((r) => r.at <= since).at(-1);
  const recommendations = [
    ...(lastBefore ? [lastBefore] : []),
    ...history.filter((r) => r.at > since && r.at <= nowMs),
    { at: nowMs, replicas: recommended },
  ];
  const inWindow = recommendations.filter((r) => r.at > since);
  const state = { recommendations };
  // Which bound moved the count, and what set it: a schedule in force, or the plan's room.
  const ofSchedule = bounds.schedule ? ` of schedule "${bounds.schedule}"` : '';
  if (current < bounds.min && recommended > current) {
    return {
      replicas: recommended,
      reason: `below the minimum ${bounds.min}${ofSchedule}`,
      tracking: false,
      state,
    };
  }
  const byPlan = max < bounds.max;
  if (current > max) {
    const reason = byPlan
      ? `above the ${max} the plan leaves room for`
      : `above the maximum ${max}${ofSchedule}`;
    return { replicas: max, reason, tracking: false, state };
  }
  if (recommended > current) {
    // As Kubernetes' ScalingLimited condition: a scale out its ceiling held back says so.
    const wanted = `${input.recommended} wanted but`;
    const held = byPlan
      ? `, ${wanted} the plan leaves room for ${max}`
      : `, ${wanted} the maximum${ofSchedule} is ${max}`;
    const reason = `scale out${input.recommended > recommended ? held : ''}`;
    return { replicas: recommended, reason, tracking: true, state };
  }
  if (recommended < current) {
    if (input.deploying)
      return { replicas: current, reason: 'scale in held during a deployment', tracking: false, state };
    // Until the history spans the whole window, the current count stands in for what was not seen.
    const oldest = input.state?.recommendations[0]?.at ?? nowMs;
    const unseen = oldest > since ? [current] : [];
    const stable = clamp(Math.max(...inWindow.map((r) => r.replicas), ...unseen));
    if (stable < current)
      return { replicas: stable, reason: 'scale in after the stabilization window', tracking: true, state };
    return {
      replicas: current,
      reason: 'scale in waits for the stabilization window',
      tracking: false,
      state,
    };
  }
  return { replicas: current, reason: 'on target', tracking: true, state };
}
