import type { Replica, ReplicaSpec, Runtime } from '../../functions/core/ports.ts';

/** A runtime of replicas in memory, which the test makes exit; every start is kept. */
export class ScriptedRuntime implements Runtime {
  readonly replicas = new Map<string, Replica>();
  readonly started: ReplicaSpec[] = [];
  /** Why the engine refuses every start while set (an image it cannot find), as the Docker runtime throws it. */
  refusal: string | undefined;

  constructor(private readonly now: () => Date) {}

  async listReplicas(filter?: { appUid?: string }) {
    return [...this.replicas.values()]
      .filter((r) => !filter?.appUid || r.appUid === filter.appUid)
      .map((r) => ({ ...r }));
  }

  async startReplica(spec: ReplicaSpec) {
    if (this.refusal) throw new Error(this.refusal);
    this.started.push(spec);
    const at = this.now().toISOString();
    const replica: Replica = {
      id: `r${this.started.length}`,
      tenantId: spec.tenantId,
      app: spec.app,
      appUid: spec.appUid,
      revision: spec.revision,
      generation: spec.generation,
      slot: spec.slot,
      state: 'running',
      cpu: spec.cpu,
      memoryMiB: spec.memory,
      createdAt: at,
      startedAt: at,
      stoppedAt: null,
      exitCode: null,
      endpoint: { host: '127.0.0.1', port: 8080 },
    };
    this.replicas.set(replica.id, replica);
    return { ...replica };
  }

  async stopReplica(id: string) {
    const replica = this.replicas.get(id);
    if (!replica) return undefined;
    replica.state = 'exited';
    replica.stoppedAt ??= this.now().toISOString();
    return { ...replica };
  }

  async removeReplica(id: string) {
    this.replicas.delete(id);
  }

  /** Nothing tells why a replica here cannot be reached. */
  async unreachableBecause() {
    return undefined;
  }

  /** Every running replica of `revision` exits with code 3. */
  crash(revision: number) {
    for (const replica of this.replicas.values()) {
      if (replica.revision !== revision || replica.state !== 'running') continue;
      Object.assign(replica, { state: 'exited', exitCode: 3, stoppedAt: this.now().toISOString() });
    }
  }

  startsOf(revision: number) {
    return this.started.filter((spec) => spec.revision === revision).length;
  }
}
