import type { UsageRecord } from '../../functions/core/ports.ts';

/** The usage of one 0.25 vCPU, 512 MiB replica that ran `seconds` in `hour`, with no shortfall. */
export const usageRow = (tenantId: string, hour: string, app: string, seconds: number): UsageRecord => ({
  tenantId,
  hour,
  app,
  vcpuMilliSeconds: 250 * seconds,
  memoryMiBSeconds: 512 * seconds,
  instanceSeconds: seconds,
  shortfallVcpuMilliSeconds: 0,
  shortfallMemoryMiBSeconds: 0,
  shortfallInstanceSeconds: 0,
});
