import { FARGATE_CPUS, FARGATE_MEMORY_BY_CPU, type OfferedSizes } from '../../schemas/fargate-sizes.ts';

/**
 * The sizes local mode offers unless BERTH_SIZES says otherwise: those of the Fargate table whose vCPUs the engine's
 * machine has. The engine refuses a container more CPUs than that ("Range of CPUs is from 0.01 to 2.00, as there are
 * only 2 CPUs available"), so an app of a larger size was taken, then failed at every start until its deployment did.
 * Memory is a limit the engine sets whatever the machine has: every Fargate memory of those vCPUs is offered.
 */
export function sizesEngineRuns(engineCpus: number): OfferedSizes {
  const cpus = FARGATE_CPUS.filter((cpu) => cpu <= engineCpus);
  const memories = cpus.flatMap((cpu) => FARGATE_MEMORY_BY_CPU.get(cpu) ?? []);
  return { cpus, maxMemoryMiB: Math.max(...memories) };
}
