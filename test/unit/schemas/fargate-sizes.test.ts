import { describe, expect, it } from 'vitest';
import { FARGATE_MEMORY_BY_CPU, fargateSizeProblem } from '../../../schemas/fargate-sizes.ts';

describe('the Fargate size table', () => {
  it.each([
    [0.25, 512],
    [0.25, 2048],
    [0.5, 4096],
    [1, 2048],
    [2, 16384],
    [4, 30720],
    [8, 20480],
    [16, 122880],
  ])('accepts %s vCPU with %s MiB', (cpu, memory) => {
    expect(fargateSizeProblem(cpu, memory)).toBeUndefined();
  });

  it.each([
    [0.25, 4096],
    [0.5, 512],
    [1, 9216],
    [8, 17408],
    [16, 36864],
  ])('rejects %s vCPU with %s MiB and lists the valid memories', (cpu, memory) => {
    const problem = fargateSizeProblem(cpu, memory);
    expect(problem).toContain(`valid values: ${FARGATE_MEMORY_BY_CPU.get(cpu)?.join(', ')}`);
  });

  it('rejects a cpu that is not a Fargate size', () => {
    expect(fargateSizeProblem(3, 8192)).toBe(
      'cpu 3 is not a Fargate size; valid values: 0.25, 0.5, 1, 2, 4, 8, 16',
    );
  });

  it('has the step sizes of the table', () => {
    expect(FARGATE_MEMORY_BY_CPU.get(8)).toHaveLength(12);
    expect(FARGATE_MEMORY_BY_CPU.get(16)).toHaveLength(12);
    expect(FARGATE_MEMORY_BY_CPU.get(4)).toHaveLength(23);
  });
});
