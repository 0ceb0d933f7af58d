import * as z from 'zod';

/**
 * The Fargate CPU/memory table. Every runtime validates against it, so local never accepts what Fargate would
 * reject (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html).
 */
const range = (from: number, to: number, step: number): number[] =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

export const FARGATE_MEMORY_BY_CPU: ReadonlyMap<number, readonly number[]> = new Map([
  [0.25, [512, 1024, 2048]],
  [0.5, range(1024, 4096, 1024)],
  [1, range(2048, 8192, 1024)],
  [2, range(4096, 16384, 1024)],
  [4, range(8192, 30720, 1024)],
  [8, range(16384, 61440, 4096)],
  [16, range(32768, 122880, 8192)],
]);

export const FARGATE_CPUS: readonly number[] = [...FARGATE_MEMORY_BY_CPU.keys()];

/**
 * Explains why a cpu/memory pair is not a valid Fargate size, or returns undefined when it is.
 *
 * @example
 * fargateSizeProblem(0.25, 4096) // 'memory 4096 MiB is not valid with cpu 0.25; valid values: 512, 1024, 2048'
 */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const memories = FARGATE_MEMORY_BY_CPU.get(cpu);
  if (!memories) return `cpu ${cpu} is not a Fargate size; valid values: ${FARGATE_CPUS.join(', ')}`;
  if (!memories.includes(memory)) {
    return `memory ${memory} MiB is not valid with cpu ${cpu}; valid values: ${memories.join(', ')}`;
  }
  return undefined;
}

/** What EKS on Fargate adds to a pod's memory request for Kubernetes' own components. */
const EKS_FARGATE_OVERHEAD_MIB = 256;

/**
 * The Fargate size EKS provisions (and bills) for a pod: the smallest size with at least the requested vCPU and at
 * least the requested memory plus 256 MiB; undefined when no size is that large.
 */
export function eksFargateSize(cpu: number, memoryMiB: number): { cpu: number; memory: number } | undefined {
  const needed = memoryMiB + EKS_FARGATE_OVERHEAD_MIB;
  for (const [sizeCpu, memories] of FARGATE_MEMORY_BY_CPU) {
    if (sizeCpu < cpu) continue;
    const memory = memories.find((m) => m >= needed);
    if (memory !== undefined) return { cpu: sizeCpu, memory };
  }
  return undefined;
}

/** The sizes an install offers its tenants, within the Fargate table: the vCPUs and the most memory an app may take. */
export const OfferedSizes = z.strictObject({
  cpus: z
    .array(
      z
        .number()
        .refine(
          (cpu) => FARGATE_CPUS.includes(cpu),
          `must be one of the Fargate vCPUs ${FARGATE_CPUS.join(', ')}`,
        ),
    )
    .min(1)
    .max(FARGATE_CPUS.length),
  maxMemoryMiB: z.number().int().min(512),
});
export type OfferedSizes = z.infer<typeof OfferedSizes>;

/**
 * Explains why a valid Fargate size is not one the install offers, with the field it is about; undefined when it is.
 */
export function offeredSizeProblem(
  offered: OfferedSizes,
  cpu: number,
  memory: number,
): { path: 'cpu' | 'memory'; message: string } | undefined {
  if (!offered.cpus.includes(cpu)) {
    return { path: 'cpu', message: `cpu ${cpu} is not offered here; offered: ${offered.cpus.join(', ')}` };
  }
  if (memory > offered.maxMemoryMiB) {
    return {
      path: 'memory',
      message: `memory ${memory} MiB is more than offered here (at most ${offered.maxMemoryMiB})`,
    };
  }
  return undefined;
}
