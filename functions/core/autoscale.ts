import { CronExpressionParser } from 'cron-parser';
import type { Scaling } from '../../schemas/app.ts';
import type { Replica, ReplicaStats, ScalerState } from './ports.ts';

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

/** The utilisations target tracking reads. */
export type TrackedFigure = 'cpuPercent' | 'memoryPercent';

/**
 * The figures `scaling` tracks, which are all the scale job asks for: each costs a CloudWatch query a task a minute on
 * Fargate (billed), so one with bounds or schedules alone asks for none, and one tracking CPU alone not for memory.
 */
export const trackedFigures = (scaling: Targets): TrackedFigure[] => [
  ...(scaling.targetCpuPercent !== undefined ? (['cpuPercent'] as const) : []),
  ...(scaling.targetMemoryPercent !== undefined ? (['memoryPercent'] as const) : []),
];

/**
 * Target tracking: `ceil(current × utilisation / target)` for each metric with a target, the largest wins; the
 * current count when no metric has a target or a sample. Never zero, even at 0 % and `min: 0`: with no replica
 * there is nothing to measure, so nothing would bring one back (Kubernetes' HPA keeps one too). An app goes to zero
 * only by POST /scale (with `min: 0`) or a schedule with `max: 0`, and stays there: with no sample, tracking keeps the
 * count, until a schedule's `min` brings it back.
 */
export function recommendReplicas(current: number, utilisation: Utilisation, scaling: Targets): number {
  const wanted = trackedMetrics(utilisation, scaling).map(({ value, target }) => {
    const ratio = value / target;
    if (Math.abs(ratio - 1) <= TOLERANCE) return current;
    return Math.max(1, Math.ceil(Math.max(current, 1) * ratio));
  });
  return wanted.length ? Math.max(...wanted) : current;
}

/**
 * A replica's warm-up: its first two minutes, whose figures measure its start (a runtime compiling, caches filling)
 * rather than load, on Fargate as a whole minute's average. Target tracking sets such replicas aside, as EC2 Auto
 * Scaling leaves instances in their warm-up out of a group's metrics and Kubernetes' HPA sets aside pods not ready.
 */
export const WARM_UP_MS = 120_000;

/** Whether a running replica is past its warm-up at `nowMs`. */
export const warmedUp = (replica: Pick<Replica, 'startedAt'>, nowMs: number) =>
  replica.startedAt !== null && nowMs - Date.parse(replica.startedAt) >= WARM_UP_MS;

const mean = (values: number[]) =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

/**
 * Target tracking over the samples of the replicas past their warm-up, while `warming` others are in it: their
 * utilisation (of the figures it tracks), and the count it recommends (the current one without a sample). A scale out
 * counts the replicas warming up as idle, as the HPA counts pods not yet ready on a scale up: so neither a start's
 * burst nor a scale out's own new replicas scale an app out again, while replicas past their warm-up busy enough for
 * all of them still do.
 */
export function trackWarmReplicas(
  current: number,
  warm: Partial<Pick<ReplicaStats, TrackedFigure>>[],
  warming: number,
  scaling: Targets,
) {
  // The figures tracked only, on every runtime (Docker's and metrics-server's samples hold all of them).
  const tracked = trackedFigures(scaling);
  const meanOf = (figure: TrackedFigure) =>
    tracked.includes(figure) ? mean(warm.flatMap((s) => s[figure] ?? [])) : undefined;
  const utilisation = { cpuPercent: meanOf('cpuPercent'), memoryPercent: meanOf('memoryPercent') };
  if (warm.length === 0) return { utilisation, recommended: current };
  const recommended = recommendReplicas(current, utilisation, scaling);
  if (recommended <= current || warming === 0) return { utilisation, recommended };
  const share = warm.length / (warm.length + warming);
  const withIdle = {
    cpuPercent: (utilisation.cpuPercent ?? 0) * share,
    memoryPercent: (utilisation.memoryPercent ?? 0) * share,
  };
  return { utilisation, recommended: Math.max(current, recommendReplicas(current, withIdle, scaling)) };
}

export interface ScaleDecision {
  replicas: number;
  reason: string;
  /**
   * The metrics decided (a scale out, held back or not, a scale in, on target) rather than bounds, a deployment or the
   * window: what they measured goes with it.
   */
  tracking: boolean;
  state: ScalerState;
}

/**
 * What to scale to: out at once; in only to the highest recommendation of the stabilization window, and not while a
 * deployment runs; always within the bounds in force and what the plan leaves room for, and never up while the
 * tenant is over its monthly cap. A scale out held back says what held it, in its reason and in the state's
 * `heldBy` (the scale job tells a hold once, not at every run it lasts).
 */
export function decideScale(input: {
  current: number;
  recommended: number;
  bounds: Bounds;
  /** The most replicas the plan leaves room for. */
  planMax: number;
  /** The tenant has reached a monthly cap of its plan: nothing may add capacity. */
  capReached: boolean;
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
  const decided = (replicas: number, reason: string, tracking: boolean, heldBy?: string): ScaleDecision => ({
    replicas,
    reason,
    tracking,
    state: { recommendations, ...(heldBy ? { heldBy } : {}) },
  });
  // Which bound moved the count, and what set it: a schedule in force, or the plan's room.
  const ofSchedule = bounds.schedule ? ` of schedule "${bounds.schedule}"` : '';
  const byPlan = max < bounds.max;
  // The most a rise may reach, and what sets it: the monthly cap (no rise at all), else the plan's room or max.
  const ceiling =
    input.capReached && current < max
      ? { at: current, why: 'the tenant has reached its monthly cap' }
      : { at: max, why: byPlan ? `the plan leaves room for ${max}` : `the maximum${ofSchedule} is ${max}` };
  if (current < bounds.min && recommended > current) {
    const reason = `below the minimum ${bounds.min}${ofSchedule}`;
    if (ceiling.at <= current) return decided(current, `${reason} but ${ceiling.why}`, false, ceiling.why);
    return decided(recommended, reason, false);
  }
  if (current > max) {
    const reason = byPlan
      ? `above the ${max} the plan leaves room for`
      : `above the maximum ${max}${ofSchedule}`;
    return decided(max, reason, false);
  }
  if (input.recommended > current) {
    // As Kubernetes' ScalingLimited condition: a scale out its ceiling held back says so.
    const to = Math.min(recommended, ceiling.at);
    if (to === input.recommended) return decided(to, 'scale out', true);
    return decided(to, `scale out, ${input.recommended} wanted but ${ceiling.why}`, true, ceiling.why);
  }
  if (recommended < current) {
    if (input.deploying) return decided(current, 'scale in held during a deployment', false);
    // Until the history spans the whole window, the current count stands in for what was not seen.
    const oldest = input.state?.recommendations[0]?.at ?? nowMs;
    const unseen = oldest > since ? [current] : [];
    const stable = clamp(Math.max(...inWindow.map((r) => r.replicas), ...unseen));
    if (stable < current) return decided(stable, 'scale in after the stabilization window', true);
    return decided(current, 'scale in waits for the stabilization window', false);
  }
  return decided(current, 'on target', true);
}
