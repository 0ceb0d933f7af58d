import type { Replica, Runtime } from '../../functions/core/ports.ts';

/** A Runtime whose replicas the test sets; only listing is real, the rest is not used by the jobs under test. */
export class ListedReplicas implements Pick<Runtime, 'listReplicas'> {
  replicas: Replica[] = [];

  async listReplicas() {
    return this.replicas.map((r) => ({ ...r }));
  }
}

let counter = 0;

/** A running replica of `app` that started at `startedAt`. */
export function replica(
  tenantId: string,
  app: string,
  startedAt: string,
  size = { cpu: 0.25, memoryMiB: 512 },
): Replica {
  counter += 1;
  return {
    id: `c${counter}`,
    tenantId,
    app,
    appUid: `uid-${app}`,
    revision: 1,
    generation: 1,
    slot: counter,
    state: 'running',
    ...size,
    createdAt: startedAt,
    startedAt,
    stoppedAt: null,
    exitCode: null,
    endpoint: null,
  };
}
