import type { PriceTable } from '../../schemas/billing.ts';
import type { UsageRecord } from './ports.ts';

/** Integer usage quantities, as the meter stores them. */
export interface UsageTotals {
  vcpuMilliSeconds: number;
  memoryMiBSeconds: number;
  instanceSeconds: number;
}

const MILLI_PER_VCPU = 1000n;
const MIB_PER_GB = 1024n;
const SECONDS_PER_HOUR = 3600n;

/** The quantities billed for `usage`: with the 1-minute minimum, short-lived instances are topped up to it. */
export function billedTotals(usage: UsageRecord[], prices: PriceTable): UsageTotals {
  const withMinimum = prices.minimumSecondsPerInstance > 0;
  const totals = { vcpuMilliSeconds: 0, memoryMiBSeconds: 0, instanceSeconds: 0 };
  for (const u of usage) {
    totals.vcpuMilliSeconds += u.vcpuMilliSeconds + (withMinimum ? u.shortfallVcpuMilliSeconds : 0);
    totals.memoryMiBSeconds += u.memoryMiBSeconds + (withMinimum ? u.shortfallMemoryMiBSeconds : 0);
    totals.instanceSeconds += u.instanceSeconds + (withMinimum ? u.shortfallInstanceSeconds : 0);
  }
  return totals;
}

/** Whether `usage` bills nothing: replicas that lived 0 s, without the minimum that would bill them a minute. */
export const billsNothing = (usage: UsageRecord[], prices: PriceTable) =>
  billedTotals(usage, prices).instanceSeconds === 0;

/**
 * The price of `totals` in micro-dollars, computed exactly as a fraction and rounded half up once:
 * vCPU-ms × price/(1000 × 3600) + MiB-s × price/(1024 × 3600).
 */
export function costMicroUsd(totals: UsageTotals, prices: PriceTable): number {
  const denominator = MILLI_PER_VCPU * MIB_PER_GB * SECONDS_PER_HOUR;
  const numerator =
    BigInt(totals.vcpuMilliSeconds) * BigInt(prices.vcpuHourMicroUsd) * MIB_PER_GB +
    BigInt(totals.memoryMiBSeconds) * BigInt(prices.gbHourMicroUsd) * MILLI_PER_VCPU;
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

/** Micro-dollars as an exact decimal string of dollars: 1234567 → "1.234567". */
export function dollars(microUsd: number): string {
  const sign = microUsd < 0 ? '-' : '';
  const abs = Math.abs(microUsd);
  return `${sign}${Math.floor(abs / 1e6)}.${String(abs % 1e6).padStart(6, '0')}`;
}

/** Integer usage as the API shows it: vCPU-seconds and GiB-seconds (exact in binary for these denominators). */
export function quantities(totals: UsageTotals) {
  return {
    vcpuSeconds: totals.vcpuMilliSeconds / 1000,
    memoryGiBSeconds: totals.memoryMiBSeconds / 1024,
    instanceSeconds: totals.instanceSeconds,
  };
}
