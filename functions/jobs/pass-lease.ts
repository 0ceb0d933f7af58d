import type { Store } from '../core/ports.ts';

export interface PassLeaseDeps {
  store: Store;
  clock: { now(): Date };
  /** Who holds it. */
  owner: string;
}

/** Passes one message may run back to back when asks keep coming; past that, the next ask's taker runs them. */
const MAX_PASSES = 3;

/**
 * A reconciler's hold on passes over one scope (a tenant's apps): taken for a pass, kept while the pass runs, and
 * handed back at its end. An ask that finds a pass running which began before it was asked is not dropped: the
 * holder runs once more when it is done.
 */
export class PassLease {
  private until = 0;
  private passes = 0;

  constructor(
    private readonly deps: PassLeaseDeps,
    private readonly name: string,
    private readonly ms: number,
  ) {}

  private nowMs() {
    return this.deps.clock.now().getTime();
  }

  /**
   * Takes the lease for a pass asked for at `askedAt` (ms; undefined: run regardless of passes since). False when
   * another pass covers the ask: one that began since, or the running one, now asked to go once more.
   */
  async take(askedAt?: number): Promise<boolean> {
    const { store, owner } = this.deps;
    // Two tries: a running pass may end between the taking and the asking.
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = this.nowMs();
      if (await store.acquireLease(this.name, owner, now + this.ms, now, askedAt)) {
        this.until = now + this.ms;
        this.passes = 1;
        return true;
      }
      if (await store.askLeaseAgain(this.name, now, askedAt)) return false;
    }
    return false;
  }

  /** Extends the lease once half of it has run; false when it was lost (it expired and another took it). */
  async keep(): Promise<boolean> {
    const now = this.nowMs();
    if (now < this.until - this.ms / 2) return true;
    if (!(await this.deps.store.renewLease(this.name, this.deps.owner, now + this.ms))) return false;
    this.until = now + this.ms;
    return true;
  }

  /** Ends a pass; true when another was asked for meanwhile, which the caller then runs, holding the lease again. */
  async release(): Promise<boolean> {
    const now = this.nowMs();
    const again = this.passes < MAX_PASSES ? now + this.ms : undefined;
    if (!(await this.deps.store.releaseLease(this.name, this.deps.owner, now, again))) return false;
    this.until = now + this.ms;
    this.passes += 1;
    return true;
  }
}
