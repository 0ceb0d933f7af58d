import type { TrafficRouter } from '../core/ports.ts';

export type Endpoint = { host: string; port: number };

/** The local stand-in for the load balancer: ready endpoints per app, handed out round robin. */
export class RoutingTable implements TrafficRouter {
  private readonly routes = new Map<string, { endpoints: Endpoint[]; next: number }>();
  /** Who waits for an app's first ready endpoint, by app. */
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Until when (epoch ms) a request may wait for an app's first ready endpoint: see `rebuilding`. */
  private rebuiltBy = 0;

  async route(tenantId: string, app: string, endpoints: Endpoint[]): Promise<void> {
    const key = `${tenantId}/${app}`;
    const current = this.routes.get(key);
    this.routes.set(key, { endpoints: [...endpoints], next: current?.next ?? 0 });
    if (endpoints.length === 0) return;
    for (const wake of this.waiting.get(key) ?? []) wake();
    this.waiting.delete(key);
  }

  async remove(tenantId: string, app: string): Promise<void> {
    this.routes.delete(`${tenantId}/${app}`);
  }

  /** How many endpoints an app has right now. */
  size(tenantId: string, app: string): number {
    return this.routes.get(`${tenantId}/${app}`)?.endpoints.length ?? 0;
  }

  /** The next endpoint of an app, or undefined when none is ready. */
  pick(tenantId: string, app: string): Endpoint | undefined {
    const route = this.routes.get(`${tenantId}/${app}`);
    if (!route || route.endpoints.length === 0) return undefined;
    const endpoint = route.endpoints[route.next % route.endpoints.length];
    route.next = (route.next + 1) % route.endpoints.length;
    return endpoint;
  }

  /**
   * The table starts empty, so after a restart the replicas that served before it have no route until the
   * reconcile loop's first passes have found and probed them. For the next `ms`, `readySoon` waits for an app's
   * route rather than let the ingress turn its requests away meanwhile.
   */
  rebuilding(ms: number): void {
    this.rebuiltBy = Date.now() + ms;
  }

  /**
   * Whether the app has a ready endpoint now, or gets one while the table is being rebuilt (see `rebuilding`):
   * waits at most until then.
   */
  async readySoon(tenantId: string, app: string): Promise<boolean> {
    const key = `${tenantId}/${app}`;
    const ready = this.size(tenantId, app) > 0;
    const left = this.rebuiltBy - Date.now();
    if (ready || left <= 0) return ready;
    return new Promise((resolve) => {
      const waiters = this.waiting.get(key) ?? new Set();
      this.waiting.set(key, waiters);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        resolve(false);
      }, left);
      waiters.add(wake);
    });
  }
}
