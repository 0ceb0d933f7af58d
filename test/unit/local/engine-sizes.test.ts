import { describe, expect, it } from 'vitest';
import { sizesEngineRuns } from '../../../functions/local/engine-sizes.ts';

describe('the sizes local mode offers by default', () => {
  it('are the Fargate sizes whose vCPUs the engine’s machine has, with all their memory', () => {
    expect(sizesEngineRuns(1)).toEqual({ cpus: [0.25, 0.5, 1], maxMemoryMiB: 8192 });
    expect(sizesEngineRuns(2)).toEqual({ cpus: [0.25, 0.5, 1, 2], maxMemoryMiB: 16384 });
    expect(sizesEngineRuns(6)).toEqual({ cpus: [0.25, 0.5, 1, 2, 4], maxMemoryMiB: 30720 });
    expect(sizesEngineRuns(64)).toEqual({ cpus: [0.25, 0.5, 1, 2, 4, 8, 16], maxMemoryMiB: 122880 });
  });
});
