import { MINIMUM_INSTANCE_SECONDS } from '../../schemas/billing.ts';
import type { LifetimeRecord, MeterStore, Replica, UsageRecord } from './ports.ts';
import { hourOf } from './usage.ts';

const HOUR = 3600;

/** Whole epoch seconds of an ISO instant: lifetimes are metered in whole seconds. */
export const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** What the meter records of a replica the runtime reports: its size and start (and stop, once it has one). */
export function lifetimeOf(replica: Replica): LifetimeRecord | undefined {
  if (!replica.startedAt) return undefined;
  const startedSec = epochSeconds(replica.startedAt);
  return {
    tenantId: replica.tenantId,
    instanceId: replica.id,
    app: replica.app,
    cpu: replica.cpu,
    memoryMiB: replica.memoryMiB,
    startedSec,
    stoppedSec: replica.stoppedAt ? Math.max(startedSec, epochSeconds(replica.stoppedAt)) : null,
    meteredSec: startedSec,
  };
}

/**
 * The usage of `lifetime` in [from, to), split at UTC hour boundaries. On closing, an instance that lived less than
 * the minimum adds its shortfall to the hour it started in (billed only with the 1-minute-minimum price option).
 */
export function accrual(lifetime: LifetimeRecord, from: number, to: number, closing: boolean): UsageRecord[] {
  const rows = new Map<string, UsageRecord>();
  const row = (sec: number) => {
    const hour = hourOf(new Date(sec * 1000));
    const existing = rows.get(hour);
    if (existing) return existing;
    const fresh: UsageRecord = {
      tenantId: lifetime.tenantId,
      app: lifetime.app,
      hour,
      vcpuMilliSeconds: 0,
      memoryMiBSeconds: 0,
      instanceSeconds: 0,
      shortfallVcpuMilliSeconds: 0,
      shortfallMemoryMiBSeconds: 0,
      shortfallInstanceSeconds: 0,
    };
    rows.set(hour, fresh);
    return fresh;
  };
  const vcpuMilli = Math.round(lifetime.cpu * 1000);
  for (let start = from; start < to; ) {
    const end = Math.min(to, (Math.floor(start / HOUR) + 1) * HOUR);
    const r = row(start);
    r.instanceSeconds += end - start;
    r.vcpuMilliSeconds += vcpuMilli * (end - start);
    r.memoryMiBSeconds += lifetime.memoryMiB * (end - start);
    start = end;
  }
  const lived = to - lifetime.startedSec;
  if (closing && lived < MINIMUM_INSTANCE_SECONDS) {
    const shortfall = MINIMUM_INSTANCE_SECONDS - lived;
    const r = row(lifetime.startedSec);
    r.shortfallInstanceSeconds += shortfall;
    r.shortfallVcpuMilliSeconds += vcpuMilli * shortfall;
    r.shortfallMemoryMiBSeconds += lifetime.memoryMiB * shortfall;
  }
  return [...rows.values()];
}

const AMOUNTS = [
  'vcpuMilliSeconds',
  'memoryMiBSeconds',
  'instanceSeconds',
  'shortfallVcpuMilliSeconds',
  'shortfallMemoryMiBSeconds',
  'shortfallInstanceSeconds',
] as const;

/** `record` with every amount set to 0: the start of a sum. */
export function emptyUsage<T extends UsageRecord>(record: T): T {
  const empty = { ...record };
  for (const amount of AMOUNTS) empty[amount] = 0;
  return empty;
}

/** Adds `from`'s amounts to `into` (exact: all integers). */
export function addUsageAmounts(into: UsageRecord, from: UsageRecord): void {
  for (const amount of AMOUNTS) into[amount] += from[amount];
}

/**
 * Records what is new of a tenant's replicas — a start not yet known, a stop not yet recorded — and returns its open
 * lifetimes. A replica whose lifetime is known as it is costs no write, however often it is listed.
 */
export async function recordLifetimes(
  meter: MeterStore,
  tenantId: string,
  replicas: Replica[],
): Promise<LifetimeRecord[]> {
  const open = new Map((await meter.listOpenLifetimes(tenantId)).map((l) => [l.instanceId, l]));
  const news = replicas.flatMap((replica) => {
    const lifetime = lifetimeOf(replica);
    const known = lifetime && open.get(lifetime.instanceId);
    if (!lifetime || (known && (known.stoppedSec !== null || lifetime.stoppedSec === null))) return [];
    return [lifetime];
  });
  for (const lifetime of news) await meter.observeLifetime(lifetime);
  return news.length ? meter.listOpenLifetimes(tenantId) : [...open.values()];
}
