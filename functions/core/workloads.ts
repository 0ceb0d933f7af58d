import { createHash } from 'node:crypto';
import type { WorkloadSpec } from './ports.ts';
import { canonicalJson } from './same-value.ts';

/** The fingerprint of a workload spec: a workload runtime is told again only when it changes. */
export function workloadHash(workload: WorkloadSpec): string {
  return createHash('sha256').update(canonicalJson(workload)).digest('hex').slice(0, 16);
}
