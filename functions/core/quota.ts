import type { Scaling } from '../../schemas/app.ts';
import type { PlanLimits } from '../../schemas/plan.ts';
import { QuotaExceededError } from './errors.ts';
import type { AppRecord, Reservation } from './ports.ts';

export const NO_RESERVATION: Reservation = { apps: 0, vcpuMilli: 0, memoryMiB: 0 };

/** What an app holds against its tenant's plan: itself, plus size × desired replicas unless stopped or deleting. */
export function reservationOf(app: Pick<AppRecord, 'spec' | 'replicas' | 'status'>): Reservation {
  const running = app.status === 'stopped' || app.status === 'deleting' ? 0 : app.replicas;
  return {
    apps: 1,
    vcpuMilli: Math.round(app.spec.cpu * 1000) * running,
    memoryMiB: app.spec.memory * running,
  };
}

export function reservationDelta(before: Reservation, after: Reservation): Reservation {
  return {
    apps: after.apps - before.apps,
    vcpuMilli: after.vcpuMilli - before.vcpuMilli,
    memoryMiB: after.memoryMiB - before.memoryMiB,
  };
}

/** The largest value each counter may hold before a write adding `delta`; a store makes this an atomic condition. */
export function reservationCeilings(limits: PlanLimits, delta: Reservation): Reservation {
  return {
    apps: limits.apps - delta.apps,
    vcpuMilli: Math.round(limits.vcpu * 1000) - delta.vcpuMilli,
    memoryMiB: limits.memoryMiB - delta.memoryMiB,
  };
}

/**
 * Throws QuotaExceededError when adding `delta` to `reserved` crosses a limit the delta increases.
 * Decreases always pass, so a tenant over a lowered limit can still shrink.
 */
export function assertWithinLimits(
  planId: string,
  limits: PlanLimits,
  reserved: Reservation,
  delta: Reservation,
) {
  const ceilings = reservationCeilings(limits, delta);
  if (delta.apps > 0 && reserved.apps > ceilings.apps) {
    throw new QuotaExceededError(
      `plan "${planId}" allows ${limits.apps === 1 ? 'one app' : `${limits.apps} apps`}, and ${reserved.apps === 1 ? 'one exists' : `${reserved.apps} exist`} (an app being deleted counts until its replicas are gone); delete an app or move to a larger plan`,
    );
  }
  if (delta.vcpuMilli > 0 && reserved.vcpuMilli > ceilings.vcpuMilli) {
    throw new QuotaExceededError(
      `plan "${planId}" allows ${limits.vcpu} vCPU in total, ${reserved.vcpuMilli / 1000} reserved already; this needs ${delta.vcpuMilli / 1000} more`,
    );
  }
  if (delta.memoryMiB > 0 && reserved.memoryMiB > ceilings.memoryMiB) {
    throw new QuotaExceededError(
      `plan "${planId}" allows ${limits.memoryMiB} MiB in total, ${reserved.memoryMiB} reserved already; this needs ${delta.memoryMiB} more`,
    );
  }
}

/** "1 instance", "2 instances". */
const instances = (n: number) => `${n} instance${n === 1 ? '' : 's'}`;

/**
 * Refuses autoscaling bounds the plan could never let the app reach (the autoscaler would stop short of them without
 * a word): `scaling.max`, and each schedule's `max`, above the plan's instances per app.
 */
export function assertScalingAllowed(planId: string, limits: PlanLimits, scaling: Scaling | null) {
  if (!scaling) return;
  const bounds: [string, number][] = [
    ['scaling.max', scaling.max],
    ...(scaling.schedules ?? []).map((s, i): [string, number] => [`scaling.schedules[${i}].max`, s.max]),
  ];
  for (const [path, max] of bounds) {
    if (max > limits.instancesPerApp) {
      throw new QuotaExceededError(
        `plan "${planId}" allows ${instances(limits.instancesPerApp)} per app; ${path} is ${max}`,
      );
    }
  }
}

export function assertReplicasAllowed(planId: string, limits: PlanLimits, replicas: number) {
  if (replicas > limits.instancesPerApp) {
    throw new QuotaExceededError(
      `plan "${planId}" allows ${instances(limits.instancesPerApp)} per app; ${replicas} were asked for`,
    );
  }
}

/** The most replicas an app may have within its plan: per-app instances and the vCPU and memory left. */
export function maxReplicasWithin(
  limits: PlanLimits,
  reserved: Reservation,
  app: Pick<AppRecord, 'spec' | 'replicas' | 'status'>,
): number {
  const held = reservationOf(app);
  const perReplica = { vcpuMilli: Math.round(app.spec.cpu * 1000), memoryMiB: app.spec.memory };
  const byVcpu = Math.floor(
    (Math.round(limits.vcpu * 1000) - reserved.vcpuMilli + held.vcpuMilli) / perReplica.vcpuMilli,
  );
  const byMemory = Math.floor(
    (limits.memoryMiB - reserved.memoryMiB + held.memoryMiB) / perReplica.memoryMiB,
  );
  return Math.max(0, Math.min(limits.instancesPerApp, byVcpu, byMemory));
}
