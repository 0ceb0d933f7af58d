/** What a container's memory reads in a stats frame, in MiB: its usage, the page cache in it, and Docker's limit. */
export interface FrameMemory {
  usageMiB: number;
  inactiveFileMiB: number;
  limitMiB?: number;
}

const MiB = 1024 * 1024;

/**
 * A frame of Docker's stats stream, as the engine sends it: read `second`s after `t0`, with `cpuSeconds` of the
 * container's CPU time and the host's 2 CPUs busy since `t0`.
 */
export function dockerStatsFrame(t0: number, second: number, cpuSeconds: number, memory: FrameMemory) {
  return {
    read: new Date(t0 + second * 1000).toISOString(),
    cpu_stats: {
      cpu_usage: { total_usage: cpuSeconds * 1e9 },
      system_cpu_usage: second * 2e9,
      online_cpus: 2,
    },
    memory_stats: {
      usage: memory.usageMiB * MiB,
      ...(memory.limitMiB !== undefined ? { limit: memory.limitMiB * MiB } : {}),
      stats: { inactive_file: memory.inactiveFileMiB * MiB },
    },
  };
}
